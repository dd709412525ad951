import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defineRole, file, generate, localCheck, onHost, type HostAccess, type Observation } from "../../src/rigger.js";
import { generatedSecrets, jwtServiceUrl } from "../matrixrtc/index.js";
import { browserCall } from "./browser-call.js";
import { twoPartyCall } from "./call.js";
import { accessToken, discoveredFocus, livekitGrant, register, type MatrixSide } from "./matrix.js";
import { callProbeVars, type CallProbeVars } from "./vars.js";

const passwordFile = (vars: CallProbeVars) => `${vars.matrixrtc_config_dir}/synapse/call-probe-password`;

const CADDY_ROOT = "/var/lib/caddy/.local/share/caddy/pki/authorities/local/root.crt";

/** Caddy's own root certificate when it signs with it, read from the host (the proxy is the homeserver host then). */
async function caddyCa(vars: CallProbeVars, host: HostAccess): Promise<string | undefined> {
  if (vars.caddy_tls !== "internal") return undefined;
  const read = await host.run(`cat ${CADDY_ROOT}`);
  if (read.code !== 0)
    throw new Error(`caddy_tls is internal but ${CADDY_ROOT} cannot be read on ${host.name}: ${read.stderr.trim()}`);
  return read.stdout;
}

/** LiveKit's client verifies TLS through OpenSSL, which reads SSL_CERT_FILE: set for the call only. */
async function trusting<T>(ca: string | undefined, work: () => Promise<T>): Promise<T> {
  if (!ca) return work();
  const dir = mkdtempSync(join(tmpdir(), "rigger-ca-"));
  const before = process.env.SSL_CERT_FILE;
  process.env.SSL_CERT_FILE = join(dir, "ca.crt");
  writeFileSync(process.env.SSL_CERT_FILE, ca);
  try {
    return await work();
  } finally {
    if (before === undefined) delete process.env.SSL_CERT_FILE;
    else process.env.SSL_CERT_FILE = before;
    rmSync(dir, { recursive: true });
  }
}

/** The homeserver and jwt service as the probe's users reach them. */
async function matrixSide(vars: CallProbeVars, host: HostAccess): Promise<MatrixSide> {
  return {
    homeserver: `https://${vars.matrix_host}`,
    jwtService: jwtServiceUrl(vars),
    ca: await caddyCa(vars, host),
    synapseAdmin: () => host.forward(vars.synapse_port),
    registrationSecret: vars.synapse_registration_shared_secret,
  };
}

/** What Element Call of the probe's first user finds: the SFU this deployment serves. */
async function findsTheSfu(vars: CallProbeVars, host: HostAccess): Promise<string> {
  const side = await matrixSide(vars, host);
  const token = await accessToken(side, vars.call_probe_users[0], vars.call_probe_password);
  return discoveredFocus(side, vars.matrix_server_name, token);
}

async function call(vars: CallProbeVars, host: HostAccess): Promise<string | Observation> {
  const side = await matrixSide(vars, host);
  const room = `!rigger-call-probe-${Date.now()}:${vars.matrix_server_name}`;
  if (vars.call_probe === "browser") {
    // Registered the first time; each page logs in by itself, as Element Call does.
    await Promise.all(vars.call_probe_users.map((user) => register(side, user, vars.call_probe_password)));
    return browserCall({
      chromium: vars.call_probe_chromium,
      ...(side.ca ? { caPem: side.ca } : {}),
      origin: vars.element_call_enabled ? vars.element_call_host : vars.matrix_host,
      serverName: vars.matrix_server_name,
      users: vars.call_probe_users,
      password: vars.call_probe_password,
      room,
      seconds: vars.call_probe_seconds,
      path: vars.call_probe_path,
    });
  }
  const grants = await Promise.all(
    vars.call_probe_users.map(async (user, i) => {
      const token = await accessToken(side, user, vars.call_probe_password);
      return livekitGrant(side, `@${user}:${vars.matrix_server_name}`, token, room, `RIGGERPROBE${i + 1}`);
    }),
  );
  const outcome = await trusting(side.ca, () =>
    twoPartyCall(grants[0]!, grants[1]!, {
      frames: vars.call_probe_frames,
      timeoutMs: vars.call_probe_timeout_seconds * 1000,
      relay: vars.call_probe_path === "relay",
    }),
  );
  if (!outcome.ok) throw new Error(outcome.error);
  if (vars.call_probe_path === "relay" && !outcome.icePath?.startsWith("relay "))
    throw new Error(`the media came ${outcome.icePath}, not through coturn`);
  return (
    `${outcome.received} audio frames crossed the SFU, the first after ${outcome.firstFrameMs} ms; ICE path ${outcome.icePath}; ` +
    `two users of ${vars.matrix_server_name} in ${room}, tokens from ${side.jwtService}, media through ${grants[0]!.url}`
  );
}

/** What the call probe cannot do as asked, before any host is touched. */
function refusal(vars: CallProbeVars): string | undefined {
  if (vars.homeserver === "existing")
    return "call_probe registers its users through rigger's Synapse; with homeserver: existing, make a call with two users of your homeserver instead";
  if (vars.call_probe_path === "relay-tls" && vars.call_probe !== "browser")
    return "call_probe_path relay-tls needs call_probe=browser: LiveKit's Node client cannot be limited to TURN over TLS";
  return undefined;
}

/**
 * The proof that calls work (opt-in with call_probe): two Matrix users of the homeserver get
 * LiveKit tokens the way Element Call does and exchange audio over the SFU, from the controller,
 * through Caddy and the firewalls, as a client on the Internet would.
 */
export default defineRole({
  name: "call_probe",
  vars: callProbeVars,
  secrets: { call_probe_password: generate.token(48), ...generatedSecrets.synapseRegistration },
  // The users' password beside Synapse's secrets (0600): a lost secrets store gets it back from there.
  secretsOnHost: (vars) => ({ call_probe_password: onHost.file(passwordFile(vars)) }),
  tasks: (vars) =>
    vars.homeserver === "synapse"
      ? [file({ path: passwordFile(vars), content: `${vars.call_probe_password}\n`, mode: 0o600 })]
      : [],
  verify: (vars) => {
    const refused = vars.call_probe && refusal(vars);
    if (refused) throw new Error(refused);
    return vars.call_probe
      ? [
          localCheck({
            name: "Element Call finds this SFU: the MSC4143 transports and the well-known name the jwt service",
            failure: "Element Call would not find this SFU",
            run: (host) => findsTheSfu(vars, host),
          }),
          localCheck({
            name: `a two-party call carries media (Matrix users, OpenID, the jwt service, LiveKit${vars.call_probe === "browser" ? ", in browsers" : ""}${vars.call_probe_path === "any" ? "" : `, ${vars.call_probe_path} forced`})`,
            failure: "the call probe failed",
            run: (host) => call(vars, host),
          }),
        ]
      : [];
  },
});
