import { isIP } from "node:net";
import { parse } from "yaml";
import { ConfigError } from "./errors.js";
import type { InventoryHost } from "./load.js";

/**
 * matrix-docker-ansible-deploy's (MDAD's) names for what rigger also configures, so that an MDAD
 * inventory runs as it is: each is read as rigger's name, and one that rigger cannot honour is
 * refused saying what to do instead. The README's "Coming from matrix-docker-ansible-deploy" is this table.
 */
interface Rename {
  rigger: string;
  /** MDAD's value as rigger's (undefined: nothing to set); throws a message when rigger has no equivalent for it. */
  convert?: (value: unknown, vars: Record<string, unknown>) => unknown;
}

/** MDAD's group of the host it deploys everything to: rigger's `matrixrtc`. */
const MDAD_GROUP = "matrix_servers";

/** MDAD's `*_configuration_extension_yaml` is YAML text; rigger's `*_config_extra` is the mapping it holds. */
const extensionYaml = (value: unknown): unknown => {
  if (typeof value !== "string") return value;
  let parsed: unknown;
  try {
    parsed = parse(value);
  } catch (error) {
    throw new Error(`expected YAML text of a mapping (${(error as Error).message.split("\n")[0]})`);
  }
  return parsed ?? {};
};

/** MDAD's reverse proxy types: one it manages becomes rigger's Caddy; the operator's own, `proxy: own`. */
const proxyType = (value: unknown): unknown => {
  if (value === "playbook-managed-traefik" || value === "playbook-managed-nginx") return "caddy";
  if (value === "other-traefik-container" || value === "other-nginx-non-container" || value === "none") return "own";
  throw new Error(
    `expected playbook-managed-traefik (rigger's Caddy), other-traefik-container, other-nginx-non-container or none (proxy: own)`,
  );
};

const RENAMES: Record<string, Rename> = {
  matrix_domain: { rigger: "matrix_server_name" },
  matrix_server_fqn_matrix: { rigger: "matrix_host" },
  matrix_element_call_hostname: { rigger: "element_call_host" },
  livekit_server_hostname: { rigger: "livekit_host" },
  matrix_element_call_enabled: { rigger: "element_call_enabled" },
  matrix_playbook_reverse_proxy_type: { rigger: "proxy", convert: proxyType },
  // Which homeserver MDAD runs: rigger deploys Synapse, or works beside the one there is (homeserver: existing).
  matrix_homeserver_implementation: {
    rigger: "homeserver",
    convert: (value, vars) => {
      if (value === "synapse" || vars.homeserver === "existing") return undefined;
      throw new Error(`rigger deploys Synapse; beside the ${String(value)} you already run, set homeserver: existing`);
    },
  },
  matrix_synapse_configuration_extension_yaml: { rigger: "synapse_config_extra", convert: extensionYaml },
  livekit_server_configuration_extension_yaml: { rigger: "livekit_config_extra", convert: extensionYaml },
  livekit_server_config_rtc_tcp_port: { rigger: "livekit_tcp_port" },
  livekit_server_config_rtc_udp_port: { rigger: "livekit_udp_port" },
  livekit_server_config_rtc_use_external_ip: { rigger: "livekit_use_external_ip" },
  livekit_server_config_rtc_node_ip: { rigger: "public_ip" },
  matrix_coturn_turn_external_ip_address: { rigger: "public_ip" },
};

/** MDAD's prefixes: a variable of theirs rigger has no name for is said, never silently ignored. */
const MDAD_PREFIXES = /^(matrix_|livekit_server_|postgres_|traefik_|devture_|exim_relay_|coturn_)/;

/**
 * Reads MDAD's names in `vars` as rigger's, in place (`origins` follows): a rigger name set too,
 * to another value, is an error naming both, as is a value rigger cannot take.
 */
export function readMdadNames(
  vars: Record<string, unknown>,
  originOf: (key: string) => string,
  origins?: Record<string, string>,
): void {
  const set = (name: string, value: unknown, from: string) => {
    vars[name] = value;
    if (origins) origins[name] = originOf(from);
  };
  for (const [mdad, { rigger, convert }] of Object.entries(RENAMES)) {
    // An empty value is MDAD's example left unfilled: nothing set.
    if (vars[mdad] === undefined || vars[mdad] === "") continue;
    let value: unknown;
    try {
      value = convert ? convert(vars[mdad], vars) : vars[mdad];
    } catch (error) {
      throw new ConfigError(originOf(mdad), mdad, `MDAD's name for rigger's ${rigger}: ${(error as Error).message}`);
    }
    if (value === undefined) continue;
    if (vars[rigger] !== undefined && JSON.stringify(vars[rigger]) !== JSON.stringify(value))
      throw new ConfigError(
        originOf(mdad),
        mdad,
        `MDAD's name for rigger's ${rigger}, which ${originOf(rigger)} sets to another value: keep one of them`,
      );
    set(rigger, value, mdad);
  }
}

/**
 * A host's variables as rigger reads them: MDAD's names as rigger's, and what MDAD derives for the
 * host of its group. The inventory itself stays as written (--list-inventory shows it as Ansible does).
 */
export function withMdadNames(host: InventoryHost, fallbackOrigin: string): Pick<InventoryHost, "vars" | "origins"> {
  const vars = { ...host.vars };
  const origins = { ...host.origins };
  readMdadNames(vars, (key) => origins[key] ?? fallbackOrigin, origins);
  mdadDefaults(host.groups, vars, origins);
  return { vars, origins };
}

/**
 * What MDAD derives for the host of its group from its domain and address, where nothing else sets
 * it: matrix.DOMAIN, call.element.DOMAIN and livekit.DOMAIN, and the public address from ansible_host
 * (as MDAD configures coturn's external IP).
 */
function mdadDefaults(groups: string[], vars: Record<string, unknown>, origins: Record<string, string>): void {
  if (!groups.includes(MDAD_GROUP) || typeof vars.matrix_server_name !== "string") return;
  const domain = vars.matrix_server_name;
  const derived: Record<string, unknown> = {
    matrix_host: `matrix.${domain}`,
    element_call_host: `call.element.${domain}`,
    livekit_host: `livekit.${domain}`,
    ...(typeof vars.ansible_host === "string" && isIP(vars.ansible_host) ? { public_ip: vars.ansible_host } : {}),
  };
  for (const [name, value] of Object.entries(derived))
    if (vars[name] === undefined) {
      vars[name] = value;
      origins[name] = origins[name === "public_ip" ? "ansible_host" : "matrix_server_name"]!;
    }
}

/** Variables in MDAD's style that neither rigger's roles nor this table know: what an MDAD user must hear is not read. */
export function mdadLeftovers(names: Iterable<string>, declared: Set<string>): string[] {
  return [...names].filter((name) => MDAD_PREFIXES.test(name) && !declared.has(name) && !(name in RENAMES)).sort();
}
