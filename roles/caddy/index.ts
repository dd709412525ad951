import {
  absent,
  apt,
  check,
  command,
  defineRole,
  directory,
  type Fleet,
  file,
  ownAddresses,
  service,
  serviceAction,
  sh,
  template,
  when,
} from "../../src/rigger.js";
import { containers, DEPLOYMENT_GROUPS, METRICS, metricsCheck, metricsRule } from "../matrixrtc/index.js";
import { caddySites, siteNames, sitesDerived } from "../sites/index.js";
import { caddyProbes } from "./verify.js";
import { caddyVars, type CaddyVars } from "./vars.js";

const CADDYFILE = "/etc/caddy/Caddyfile";
const ACME_CA_ROOT = "/etc/caddy/acme-ca-root.pem";
/**
 * caddy_bind, kept apart from the Caddyfile: a reload cannot move Caddy's listeners between every
 * address and some (its HTTP/3 socket on the old ones is in the way), so a new list restarts it.
 */
const BIND_LIST = "/etc/caddy/rigger-bind";
/** The first line of the Caddyfile this role writes (templates/Caddyfile.hbs): what tells rigger's Caddy from an operator's. */
export const CADDYFILE_MARKER = "# Managed by rigger (role caddy)";
/** Succeeds when the host's Caddyfile is rigger's. */
const RIGGERS_CADDYFILE = sh`head -n 1 ${CADDYFILE} 2>/dev/null | grep -qF -- ${CADDYFILE_MARKER}`;

const tlsDirective = (vars: CaddyVars) =>
  vars.caddy_tls === "internal"
    ? "tls internal"
    : vars.caddy_tls === "files"
      ? `tls ${vars.caddy_tls_certificate} ${vars.caddy_tls_key_path}`
      : "";

/**
 * Where Caddy listens when coturn's TURN over TLS holds 443 on turn_ip of this same host: the host's
 * public and private addresses and loopback (where the checks and Prometheus reach it), never turn_ip.
 */
function bindBesideTurn(fleet: Fleet): { caddy_bind?: string[] } {
  const own = DEPLOYMENT_GROUPS.turn
    .flatMap((group) => fleet.members(group))
    .find((member) => member.name === fleet.host)?.vars;
  if (!own || own.coturn_enabled === false || own.coturn_tls_port !== 443) return {};
  return { caddy_bind: [...new Set([own.public_ip, own.private_ip ?? own.public_ip, "127.0.0.1"].map(String))] };
}

/** Where Caddy listens: caddy_bind's addresses, each the host's own, or (the list absent) all of the host's. */
function bindTasks(vars: CaddyVars) {
  if (vars.caddy_bind.length)
    return [
      ownAddresses({ addresses: vars.caddy_bind, setting: "caddy_bind" }),
      file({ path: BIND_LIST, content: `${vars.caddy_bind.join("\n")}\n`, notify: "restart caddy" }),
    ];
  const coturn = containers.coturn;
  return [
    // Back to every address, Caddy cannot start while coturn holds 443 on one of them: coturn stops
    // here, and play turn starts it again on its new ports.
    command({
      name: "coturn lets go of 443 for Caddy",
      run: sh`if docker inspect ${coturn} >/dev/null 2>&1; then docker stop ${coturn} >/dev/null; fi`,
      unless: sh`test ! -e ${BIND_LIST}`,
    }),
    absent({ path: BIND_LIST, notify: "restart caddy" }),
  ];
}

/** Caddy from Debian's package: TLS and routing for every name of roles/sites, the Matrix well-known among them; with `proxy: own`, nothing. */
export default defineRole({
  name: "caddy",
  vars: caddyVars,
  enabled: (vars) => vars.proxy === "caddy",
  // proxy: own: a Caddy rigger configured is stopped and its Caddyfile set aside (the package stays);
  // a Caddy whose Caddyfile is the operator's is theirs, and is left as it is.
  removal: () => ({
    tasks: [
      command({
        name: "rigger's caddy stopped and disabled, its Caddyfile set aside",
        run: sh`systemctl disable --now caddy.service && mv -f -- ${CADDYFILE} ${`${CADDYFILE}.rigger-removed`}`,
        unless: `! ${RIGGERS_CADDYFILE}`,
      }),
    ],
    verify: [
      check({
        name: "no caddy of rigger's runs (the operator's proxy serves 80 and 443)",
        command: `if ${RIGGERS_CADDYFILE}; then exit 1; else ${sh`echo ${`caddy: ${CADDYFILE} is not rigger's (the operator's, or none): left as it is`}`}; fi`,
        failure: `${CADDYFILE} is still rigger's: its Caddy would hold 80 and 443 from the operator's proxy`,
      }),
    ],
  }),
  derive: (fleet) => ({ ...sitesDerived(fleet), ...bindBesideTurn(fleet) }),
  tasks: (vars) => [
    // curl, for the verify probes that ask Caddy over TLS as a client would, comes with the host layer.
    apt({ packages: ["caddy"] }),
    directory({ path: "/etc/caddy" }),
    ...when(vars.caddy_tls === "acme" && vars.caddy_acme_ca_root, () =>
      file({ path: ACME_CA_ROOT, content: vars.caddy_acme_ca_root, notify: "reload caddy" }),
    ),
    ...bindTasks(vars),
    template({
      path: CADDYFILE,
      template: new URL("templates/Caddyfile.hbs", import.meta.url),
      vars: {
        ...vars,
        sites: caddySites(vars, tlsDirective(vars)),
        acme: vars.caddy_tls === "acme",
        globalOptions: vars.caddy_tls === "acme" || vars.caddy_bind.length > 0,
        acmeCaRootFile: ACME_CA_ROOT,
      },
      validate: "caddy validate --adapter caddyfile --config %s",
      notify: "reload caddy",
    }),
    service({ unit: "caddy.service", enabled: true, state: "started" }),
  ],
  // Started by this run, Caddy has read the new Caddyfile: a reload right after would cancel the certificate orders its start began.
  handlers: () => ({
    "restart caddy": serviceAction("caddy.service", "restart"),
    "reload caddy": serviceAction("caddy.service", "reload", { unlessStartedAfter: CADDYFILE }),
  }),
  names: siteNames,
  ports: (vars) => [
    { protocol: "tcp", port: 80, comment: "caddy: ACME and redirects" },
    { protocol: "tcp", port: 443, comment: "caddy: https" },
    ...when(vars.metrics_clients.length, () => metricsRule(vars, "caddy", vars.caddy_metrics_port)),
  ],
  verify: (vars) => [
    ...caddyProbes(vars),
    ...when(vars.metrics_clients.length, () =>
      metricsCheck("caddy", `http://127.0.0.1:${vars.caddy_metrics_port}${METRICS.caddy.path}`, "caddy_"),
    ),
  ],
});
