/**
 * What the MatrixRTC roles share: the operator's variables that mean the same thing in several
 * roles (one name, one schema), the rules that tie them together, and the names derived from them.
 * Each role picks the variables it needs from here and adds its own in its vars.ts.
 */
import { isIP } from "node:net";
import { z } from "zod";
import { absent, check, dockerContainer, dockerContainerAbsent, dockerImage, dockerNetwork, generate, sh, type ContainerSpec, type Fleet, type Operation } from "../src/rigger.js";

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/i;

export const hostname = z.string().regex(HOSTNAME, "expected a DNS name such as matrix.example.org (no scheme, port or path)");
export const port = z.number().int().min(1).max(65535);
export const portRange = z
  .tuple([port, port])
  .refine(([low, high]) => low <= high, "expected [low, high] with low <= high");
export const ipAddress = z.string().refine((v) => isIP(v) !== 0, "expected an IP address");
/** The addresses (or CIDR ranges) allowed to reach a service on another host; empty: it stays local. */
export const clientAddresses = z
  .array(z.string().refine((v) => isIP(v.split("/")[0]!) !== 0 && /^[^/]+(\/\d{1,3})?$/.test(v), "expected an IP address or CIDR range"))
  .default([]);
/** Prometheus servers allowed to scrape the metrics endpoints (LiveKit's; coturn's with coturn_metrics); empty: no endpoint is opened. */
export const metricsClients = { metrics_clients: clientAddresses };

/** A secret an operator sets by hand must be as strong as a generated one. */
export const secret = z.string().min(32, "a secret needs at least 32 characters (delete the variable to have one generated)");
/** Settings a role's template did not foresee, deep-merged into its YAML or JSON config (MDAD's `*_configuration_extension_yaml`). */
export const configExtra = z.record(z.string(), z.unknown()).default({});

/** One or more certificates in PEM form (public roots, not secrets). */
export const pemCertificates = z.string().regex(/^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\s*$/, "expected PEM certificates (-----BEGIN CERTIFICATE----- ...)");
/** Tags that move to new releases: `latest`, a branch, a major version alone (`7`, `v1`, `7-alpine`). */
const FLOATING_TAG = /^(latest|stable|edge|main|master|nightly|alpine|slim)$|^v?\d+(-[\w.]+)?$/;
/** An image pinned to an exact release or a digest: a floating tag is never pulled again once present, so hosts drift apart. */
export const image = z.string().refine((ref) => {
  const last = ref.split("/").pop()!;
  if (last.includes("@")) return true;
  const tag = last.split(":")[1];
  return tag !== undefined && !FLOATING_TAG.test(tag);
}, "expected an image pinned to an exact version or a digest (repo:1.2.3 or repo@sha256:...), never latest or a major-only tag such as 7-alpine: a floating tag is never pulled again, so hosts drift apart");

/** The names of the deployment, shared by every role that mentions them. */
export const names = {
  /** The Matrix server name (the part after the colon in @user:example.org). */
  matrix_server_name: hostname.meta({ examples: ["example.org"] }),
  /** Where Synapse and the jwt service are reached (https://matrix_host/_livekit). */
  matrix_host: hostname.meta({ examples: ["matrix.example.org"] }),
  livekit_host: hostname.meta({ examples: ["livekit.example.org"] }),
  element_call_host: hostname.meta({ examples: ["call.example.org"] }),
};

/**
 * The deployment's shape: what rigger runs, and what the operator's own servers already do.
 * Every role that a shape changes reads these, so one variable decides it everywhere.
 */
export const shape = {
  /** "caddy": rigger's Caddy fronts every name; "own": the operator's reverse proxy does, from the snippets rigger writes (role own_proxy). */
  proxy: z.enum(["caddy", "own"]).default("caddy"),
  /** "synapse": rigger deploys Synapse; "existing": the operator's homeserver at matrix_host, checked and never touched (role existing_homeserver). */
  homeserver: z.enum(["synapse", "existing"]).default("synapse"),
  element_call_enabled: z.boolean().default(true),
  /** Serve /.well-known/matrix/* on matrix_server_name; by default only with rigger's Synapse (an existing homeserver's server serves it). */
  well_known_enabled: z.boolean().optional(),
};
/** Synapse's database: PostgreSQL (role postgres) for a real server, SQLite for trying rigger out (Synapse's docs: SQLite is for testing). */
export const synapseDatabase = { synapse_database: z.enum(["postgres", "sqlite"]).default("postgres") };
export const postgresPassword = {
  /** The database user's password, generated once; Synapse's homeserver.yaml and the postgres container read it. */
  synapse_postgres_password: secret.regex(/^[A-Za-z0-9]+$/, "expected letters and digits only (delete the variable to have one generated)"),
};
/** Where the homeserver's host keeps its backups (playbooks/backup.ts, the timer, the backup before an upgrade) and a restore's database dump waits. */
export const backupPlace = { backup_dir: z.string().startsWith("/").default("/var/backups/matrixrtc") };
/** The command that makes a backup on the host (role backup); where it is not installed yet, nothing. */
export const BACKUP_COMMAND = "/usr/local/sbin/matrixrtc-backup";
export const backupTimeout = {
  /**
   * How long one backup may take, in seconds (playbooks/backup.ts, and the one before a data-holding
   * container's upgrade): tar and gzip of the media run at about 30-60 MB/s on one core, so 4 hours
   * covers a few hundred GB. A backup past it is stopped and leaves nothing behind.
   */
  backup_timeout: z.number().int().min(60).default(14_400),
};
/** What a data-holding container runs before an upgrade: a backup, once the backup role has installed its command. */
export const backupBeforeUpgrade = (vars: { backup_timeout: number }) => ({
  command: `if [ -x ${BACKUP_COMMAND} ]; then ${BACKUP_COMMAND}; fi`,
  timeoutSeconds: vars.backup_timeout,
});
/** The database dump a restore leaves for the postgres role to load into the new, empty database. */
export const pendingRestoreDump = (vars: { backup_dir: string }) => `${vars.backup_dir}/restore/synapse.pgdump`;
/** The database, its user and the container Synapse reaches it at, on the services' network. */
export const SYNAPSE_DB = { name: "synapse", user: "synapse", port: 5432 };
type Shape = { homeserver: "synapse" | "existing"; well_known_enabled?: boolean };
export const servesWellKnown = (vars: Shape) => vars.well_known_enabled ?? vars.homeserver === "synapse";

/** The address the services publish their HTTP ports on for the proxy, and those ports. */
export const published = {
  /** 127.0.0.1 when the proxy runs on the same host; a private address when it runs elsewhere (never a wildcard: Docker's ports bypass the firewall). */
  matrixrtc_bind_address: z
    .string()
    .refine((v) => isIP(v) !== 0, "expected an IP address")
    .refine((v) => v !== "0.0.0.0" && v !== "::", "expected one address: a wildcard publishes the port to the world past the host firewall (Docker's ports bypass it)")
    .default("127.0.0.1"),
  synapse_port: port.default(8008),
  lk_jwt_port: port.default(8380),
  element_call_port: port.default(8280),
  livekit_port: port.default(7880),
};
type Published = { matrixrtc_bind_address: string };
const bindHost = (vars: Published) => (vars.matrixrtc_bind_address.includes(":") ? `[${vars.matrixrtc_bind_address}]` : vars.matrixrtc_bind_address);
/** host:port of a published port, as the proxy and the host's own probes reach it. */
export const publishedAt = (vars: Published, port: number) => `${bindHost(vars)}:${port}`;

/** Where the services' config lives on a host, the Docker network they share, and test-only /etc/hosts entries. */
export const placement = {
  matrixrtc_config_dir: z.string().startsWith("/").default("/etc/matrixrtc"),
  matrixrtc_network: z.string().regex(/^[\w.-]+$/).default("matrixrtc"),
  /** Extra /etc/hosts entries in the containers (name -> address): for hosts without public DNS. */
  matrixrtc_extra_hosts: z.record(hostname, ipAddress).default({}),
  /** The address the deployment's other hosts reach this one at (a private network); by default public_ip. */
  private_ip: ipAddress.optional(),
};

/**
 * The addresses of a group's hosts as the other hosts reach them (private_ip, else public_ip), the
 * host itself left out: what a split deployment's cross-host lists are derived from, so adding an
 * SFU node is adding it to the `sfu` group.
 */
export function groupAddresses(fleet: Fleet, group: string): string[] {
  return fleet
    .members(group)
    .filter((member) => member.name !== fleet.host)
    .map((member) => member.vars.private_ip ?? member.vars.public_ip)
    .filter((address): address is string => typeof address === "string");
}

/** Only what a group yields: an empty group leaves the role's own default in place. */
export const derivedWhen = <T>(values: T[], derived: (values: T[]) => Record<string, unknown>) => (values.length ? derived(values) : {});

/** LiveKit's media ports: exactly one UDP mode. */
export const livekitPorts = {
  /** The single UDP port (ICE/UDP mux); the default mode, on 7882. */
  livekit_udp_port: port.optional(),
  /** A UDP port range instead of the single port, e.g. [50000, 50100]. */
  livekit_udp_range: portRange.optional(),
  livekit_tcp_port: port.default(7881),
};

/**
 * coturn's relay range and LiveKit's UDP ports must not overlap. Each relayed user holds about one
 * port of the range: 1000 ports serve about 1000 users whose media cannot reach LiveKit directly.
 */
export const turnPorts = {
  /** The TURN server's public name; by default livekit_host (one host runs both). Set it when coturn has a host of its own. */
  turn_host: hostname.optional(),
  coturn_relay_range: portRange.default([49152, 50151]),
};

/** TURN over TLS on 5349 when both are given (paths on the coturn host): Synapse then hands out turns: URIs and LiveKit a TLS TURN server. */
export const turnTls = {
  coturn_tls_certificate: z.string().startsWith("/").optional(),
  coturn_tls_key_path: z.string().startsWith("/").optional(),
};

/** turn_host, defaulted to livekit_host: a one-host deployment names nothing twice. */
export const turnHost = (vars: { turn_host?: string; livekit_host: string }) => vars.turn_host ?? vars.livekit_host;

export const turnSecret = { turn_shared_secret: secret };
export const livekitKeys = {
  livekit_api_key: z.string().regex(/^\w{3,}$/, "expected letters and digits"),
  // lk-jwt-service splits its key file on ":" and refuses anything but two parts; generated secrets are letters and digits.
  livekit_api_secret: secret.regex(/^[A-Za-z0-9]+$/, "expected letters and digits only: the jwt service reads its key file as key:secret and dies on a secret holding \":\" (delete the variable to have one generated)"),
};

type LivekitPortVars = { livekit_udp_port?: number; livekit_udp_range?: [number, number] };

/** The UDP ports LiveKit uses: the range when one is set, else the single port (7882 by default). */
export const livekitUdp = (vars: LivekitPortVars): [number, number] | number => vars.livekit_udp_range ?? vars.livekit_udp_port ?? 7882;

/** Refuses both UDP modes at once, and a coturn relay range that overlaps LiveKit's UDP ports. */
export function portRules(vars: LivekitPortVars & { coturn_relay_range?: [number, number] }, ctx: z.RefinementCtx): void {
  if (vars.livekit_udp_port !== undefined && vars.livekit_udp_range !== undefined)
    ctx.addIssue({ code: "custom", path: ["livekit_udp_range"], message: "LiveKit uses one UDP mode: set livekit_udp_port or livekit_udp_range, not both (with a range, the single port is ignored)" });
  const relay = vars.coturn_relay_range;
  if (!relay) return;
  const udp = livekitUdp(vars);
  const [low, high] = Array.isArray(udp) ? udp : [udp, udp];
  if (low <= relay[1] && relay[0] <= high) {
    // Named after the LiveKit setting when the operator gave one (the relay range may be its default).
    const key = vars.livekit_udp_range ? "livekit_udp_range" : vars.livekit_udp_port ? "livekit_udp_port" : "coturn_relay_range";
    ctx.addIssue({ code: "custom", path: [key], message: `LiveKit's UDP ${low}-${high} overlaps coturn's relay range ${relay[0]}-${relay[1]}: move one of them (coturn_relay_range defaults to 49152-50151)` });
  }
}

type JwtPlace = { homeserver: "synapse" | "existing"; matrix_host: string; livekit_host: string };
/** The name the jwt service is served under: beside Synapse on matrix_host, or on livekit_host beside an existing homeserver (whose proxy is not rigger's). */
export const jwtHost = (vars: JwtPlace) => (vars.homeserver === "existing" ? vars.livekit_host : vars.matrix_host);
/** The jwt service's public URL: what the well-known, Synapse's transports and Element Call all advertise. */
export const jwtServiceUrl = (vars: JwtPlace) => `https://${jwtHost(vars)}/_livekit`;
/** MSC4143's rtc_foci, as the well-known lists them: this SFU's jwt service. */
export const rtcFoci = (vars: JwtPlace) => [{ type: "livekit", livekit_service_url: jwtServiceUrl(vars) }];
export const livekitUrl = (vars: { livekit_host: string }) => `wss://${vars.livekit_host}`;
/** Where LiveKit posts its webhook: the jwt service on the services' network, or through Caddy from an SFU node elsewhere. */
export const jwtWebhookUrl = (vars: JwtPlace, sameHost: boolean) =>
  sameHost ? `http://${containers.jwt}:8080/sfu_webhook` : `${jwtServiceUrl(vars)}/sfu_webhook`;

/** The container names, for roles that refer to each other's containers. */
export const containers = {
  redis: "matrixrtc-redis",
  livekit: "matrixrtc-livekit",
  jwt: "matrixrtc-lk-jwt",
  synapse: "matrixrtc-synapse",
  coturn: "matrixrtc-coturn",
  elementCall: "matrixrtc-element-call",
  postgres: "matrixrtc-postgres",
};

/** The LiveKit key file: `key: secret`, the format both LiveKit (key_file) and lk-jwt-service (LIVEKIT_KEY_FILE) read. */
export const livekitKeyFile = (vars: { livekit_api_key: string; livekit_api_secret: string }) => `${vars.livekit_api_key}: ${vars.livekit_api_secret}\n`;

/** Secrets several roles need: whichever role comes first generates them, every other reuses them. */
export const generatedSecrets = {
  livekitKeys: { livekit_api_key: generate.prefixed("API", 12), livekit_api_secret: generate.token(48) },
  turn: { turn_shared_secret: generate.token(48) },
  redis: { redis_password: generate.token(48) },
  synapseRegistration: { synapse_registration_shared_secret: generate.token(48) },
  postgres: { synapse_postgres_password: generate.token(48) },
  signingKey: { synapse_signing_key: generate.ed25519SigningKey() },
};

/**
 * A service's container on the services' Docker network (one network: two bridges break ICE
 * replies), its pinned image pulled first; or on the host's network when `network` says "host".
 */
export function serviceContainer(vars: { matrixrtc_network: string }, spec: Omit<ContainerSpec, "network"> & { network?: "host" }): Operation[] {
  const network = spec.network ?? vars.matrixrtc_network;
  return [...(network === "host" ? [] : [dockerNetwork({ name: network })]), dockerImage({ ref: spec.image }), dockerContainer({ ...spec, network })];
}

/** A check that a Prometheus endpoint on the host serves the service's own metrics (their names start with `prefix`); it prints how many samples. */
export const metricsCheck = (service: string, url: string, prefix: string) =>
  check({
    name: `${service} serves Prometheus metrics at ${url}`,
    command: `out=$(${sh`curl -sS --max-time 10 ${url}`}) && printf '%s\n' "$out" | ${sh`grep -c ${`^${prefix}`}`}`,
    timeoutSeconds: 20,
    failure: `${url} serves no ${prefix}* metrics`,
  });

/**
 * What turning a service off takes away: its container and its config directory (data directories
 * stay: they are the operator's to delete), and the check that both are gone.
 */
export const serviceRemoval = (container: string, configDir: string) => ({
  tasks: [dockerContainerAbsent(container), absent({ path: configDir })],
  verify: [
    check({
      name: `${container} and ${configDir} are gone`,
      command: `! ${sh`docker container inspect ${container}`} >/dev/null 2>&1 && ${sh`[ ! -e ${configDir} ]`} && echo gone`,
      failure: `${container} or ${configDir} is still there although the component is turned off`,
    }),
  ],
});

/** A check that a container publishes no port: it stays on the services' Docker network. */
export const unpublishedCheck = (container: string, service: string) =>
  check({
    name: `${service} publishes no port`,
    command: `[ -z "$(${sh`docker port ${container}`})" ] && echo 'docker port: nothing published'`,
    failure: `${container} publishes a port: ${service} must stay on the Docker network`,
  });

/** A check that these files exist and no other user can read them (secrets on the host). */
export const privateFilesCheck = (paths: string[]) =>
  check({
    name: "its secrets are not readable by other users",
    command: `${sh`stat -c '%a %U:%G %n' ${paths}`} && [ -z "$(${sh`find ${paths} -perm /o+r`})" ]`,
    failure: `a secret file is missing or readable by every user: ${paths.join(", ")}`,
  });

/** A check that a container publishes its port on the bind address only (the proxy reaches it there). */
export const publishedOnlyCheck = (vars: Published, container: string, port?: string) =>
  check({
    name: `its ${port ?? "port"} is published on ${vars.matrixrtc_bind_address} only`,
    command: `out=$(${sh`docker port ${container} ${port ? [port] : []}`}) && [ -n "$out" ] && ! printf '%s\\n' "$out" | ${sh`grep -vE ${`(^| )${bindHost(vars).replace(/[.[\]]/g, "\\$&")}:`}`} && printf '%s\\n' "$out"`,
    failure: `${container} publishes a port on an address other than ${vars.matrixrtc_bind_address} (Docker-published ports bypass the host firewall)`,
  });
