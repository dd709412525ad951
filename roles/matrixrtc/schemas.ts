/** The operator's variables that mean the same thing in several roles: one name, one schema, and the rules that tie them together. */
import { isIP } from "node:net";
import { z } from "zod";

const HOSTNAME = /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/i;

export const hostname = z
  .string()
  .regex(HOSTNAME, "expected a DNS name such as matrix.example.org (no scheme, port or path)");

export const port = z.number().int().min(1).max(65535);

export const portRange = z
  .tuple([port, port])
  .refine(([low, high]) => low <= high, "expected [low, high] with low <= high");

export const ipAddress = z.string().refine((v) => isIP(v) !== 0, "expected an IP address");

/** The addresses (or CIDR ranges) allowed to reach a service on another host; empty: it stays local. */
export const clientAddresses = z
  .array(
    z
      .string()
      .refine(
        (v) => isIP(v.split("/")[0]!) !== 0 && /^[^/]+(\/\d{1,3})?$/.test(v),
        "expected an IP address or CIDR range",
      ),
  )
  .default([]);

export const metricsClients = {
  /**
   * Your Prometheus servers: every service of the host opens its metrics endpoint to them only (the
   * firewall admits no one else); empty: no endpoint is opened. Role monitoring writes their scrape
   * configuration and alert rules.
   */
  metrics_clients: clientAddresses,
};

/** A secret an operator sets by hand must be as strong as a generated one. */
export const secret = z
  .string()
  .min(32, "a secret needs at least 32 characters (delete the variable to have one generated)");

/** Settings a role's template did not foresee, deep-merged into its YAML or JSON config (MDAD's `*_configuration_extension_yaml`). */
export const configExtra = z.record(z.string(), z.unknown()).default({});

/** One or more certificates in PEM form (public roots, not secrets). */
export const pemCertificates = z
  .string()
  .regex(
    /^-----BEGIN CERTIFICATE-----\n[\s\S]+\n-----END CERTIFICATE-----\s*$/,
    "expected PEM certificates (-----BEGIN CERTIFICATE----- ...)",
  );

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
  /** The SFU's public name: every path of https://livekit_host goes to LiveKit (client WebSockets, and the Twirp API the jwt service creates rooms with). */
  livekit_host: hostname.meta({ examples: ["livekit.example.org"] }),
  /** Where users open Element Call (https://element_call_host). */
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
  /** false: no Element Call here, and no site for element_call_host. */
  element_call_enabled: z.boolean().default(true),
  /** Serve /.well-known/matrix/* on matrix_server_name; by default only with rigger's Synapse (an existing homeserver's server serves it). */
  well_known_enabled: z.boolean().optional(),
};

/** Synapse's database: PostgreSQL (role postgres) for a real server, SQLite for trying rigger out (Synapse's docs: SQLite is for testing). */
export const synapseDatabase = {
  /** "postgres" (role postgres) or "sqlite" (only for trying rigger out). */
  synapse_database: z.enum(["postgres", "sqlite"]).default("postgres"),
};

export const postgresPassword = {
  /** The database user's password, generated once; Synapse's homeserver.yaml and the postgres container read it. */
  synapse_postgres_password: secret.regex(
    /^[A-Za-z0-9]+$/,
    "expected letters and digits only (delete the variable to have one generated)",
  ),
};

/** Where the homeserver's host keeps its backups (playbooks/backup.ts, the timer, the backup before an upgrade) and a restore's database dump waits. */
export const backupPlace = {
  /** Where the backup archives are kept on the host. */
  backup_dir: z.string().startsWith("/").default("/var/backups/matrixrtc"),
};

export const backupAge = {
  /** How old the newest backup may grow, in hours, before verify.ts fails and role monitoring's alert fires (a daily schedule misses one run at 48). */
  backup_max_age_hours: z.number().int().min(1).default(48),
};

export const backupTimeout = {
  /**
   * How long one backup may take, in seconds (playbooks/backup.ts, and the one before a data-holding
   * container's upgrade): tar and gzip of the media run at about 30-60 MB/s on one core, so 4 hours
   * covers a few hundred GB. A backup past it is stopped and leaves nothing behind.
   */
  backup_timeout: z.number().int().min(60).default(14_400),
};

/** The address the services publish their HTTP ports on for the proxy, and those ports. */
export const published = {
  /** 127.0.0.1 when the proxy runs on the same host; a private address when it runs elsewhere (never a wildcard: Docker's ports bypass the firewall). */
  matrixrtc_bind_address: z
    .string()
    .refine((v) => isIP(v) !== 0, "expected an IP address")
    .refine(
      (v) => v !== "0.0.0.0" && v !== "::",
      "expected one address: a wildcard publishes the port to the world past the host firewall (Docker's ports bypass it)",
    )
    .default("127.0.0.1"),
  /** Synapse's client and federation API, published for the proxy. */
  synapse_port: port.default(8008),
  /** The jwt service, published for the proxy (served at https://matrix_host/_livekit). */
  lk_jwt_port: port.default(8380),
  /** Element Call's web server, published for the proxy. */
  element_call_port: port.default(8280),
  /** LiveKit's API and signalling, published for the proxy. */
  livekit_port: port.default(7880),
};

/** Where the services' config lives on a host, the Docker network they share, and test-only /etc/hosts entries. */
export const placement = {
  /** Where the services' configs live on the host (a folder per service). */
  matrixrtc_config_dir: z.string().startsWith("/").default("/etc/matrixrtc"),
  /** The services' Docker network. */
  matrixrtc_network: z
    .string()
    .regex(/^[\w.-]+$/)
    .default("matrixrtc"),
  /** Extra /etc/hosts entries in the containers (name -> address): for hosts without public DNS. */
  matrixrtc_extra_hosts: z.record(hostname, ipAddress).default({}),
  /** The address the deployment's other hosts reach this one at (a private network); by default public_ip. */
  private_ip: ipAddress.optional(),
};

/** LiveKit's media ports: exactly one UDP mode. */
export const livekitPorts = {
  /** The single UDP port (ICE/UDP mux); the default mode, on 7882. */
  livekit_udp_port: port.optional(),
  /** A UDP port range instead of the single port, e.g. [50000, 50100]. */
  livekit_udp_range: portRange.optional(),
  /** ICE over TCP, for clients whose UDP is blocked. */
  livekit_tcp_port: port.default(7881),
};

/**
 * coturn's relay range and LiveKit's UDP ports must not overlap. Each relayed user holds about one
 * port of the range: 1000 ports serve about 1000 users whose media cannot reach LiveKit directly.
 */
export const turnPorts = {
  /** The TURN server's public name; by default livekit_host (one host runs both). Set it when coturn has a host of its own. */
  turn_host: hostname.optional(),
  /** The ports relays use: about one relayed user per port; must not overlap LiveKit's UDP port or range. */
  coturn_relay_range: portRange.default([49152, 50151]),
};

/** TURN over TLS when both are given (paths on the coturn host): Synapse then hands out turns: URIs and LiveKit a TLS TURN server. */
export const turnTls = {
  /** The certificate chain (a path on the coturn host); read by Synapse and LiveKit too. */
  coturn_tls_certificate: z.string().startsWith("/").optional(),
  /** Its private key (a path on the coturn host). */
  coturn_tls_key_path: z.string().startsWith("/").optional(),
  /**
   * The port of TURN over TLS. 443 reaches clients on networks that let nothing else out (hotels,
   * offices); it needs turn_ip, and on a host whose 443 Caddy serves, a second address for it.
   */
  coturn_tls_port: port.default(5349),
  /**
   * The address turn_host resolves to, which coturn alone listens on (every port it serves); unset:
   * all of the host's. With coturn_tls_port 443 beside Caddy, a second address of the host: Caddy
   * then listens on the others (caddy_bind).
   */
  turn_ip: ipAddress.optional(),
};

/** TURN over TLS is on: coturn has a certificate. */
export const turnTlsOn = (vars: { coturn_tls_certificate?: string }) => Boolean(vars.coturn_tls_certificate);

export const turnSecret = { turn_shared_secret: secret };

export const livekitKeys = {
  /** The key the SFU's tokens are signed with, shared with the jwt service; generated with its secret. */
  livekit_api_key: z.string().regex(/^\w{3,}$/, "expected letters and digits"),
  // lk-jwt-service splits its key file on ":" and refuses anything but two parts; generated secrets are letters and digits.
  livekit_api_secret: secret.regex(
    /^[A-Za-z0-9]+$/,
    'expected letters and digits only: the jwt service reads its key file as key:secret and dies on a secret holding ":" (delete the variable to have one generated)',
  ),
};

type LivekitPortVars = { livekit_udp_port?: number; livekit_udp_range?: [number, number] };

/** The UDP ports LiveKit uses: the range when one is set, else the single port (7882 by default). */
export const livekitUdp = (vars: LivekitPortVars): [number, number] | number =>
  vars.livekit_udp_range ?? vars.livekit_udp_port ?? 7882;

/** Refuses both UDP modes at once, and a coturn relay range that overlaps LiveKit's UDP ports. */
export function portRules(
  vars: LivekitPortVars & { coturn_relay_range?: [number, number] },
  ctx: z.RefinementCtx,
): void {
  if (vars.livekit_udp_port !== undefined && vars.livekit_udp_range !== undefined)
    ctx.addIssue({
      code: "custom",
      path: ["livekit_udp_range"],
      message:
        "LiveKit uses one UDP mode: set livekit_udp_port or livekit_udp_range, not both (with a range, the single port is ignored)",
    });
  const relay = vars.coturn_relay_range;
  if (!relay) return;
  const udp = livekitUdp(vars);
  const [low, high] = Array.isArray(udp) ? udp : [udp, udp];
  if (low <= relay[1] && relay[0] <= high) {
    // Named after the LiveKit setting when the operator gave one (the relay range may be its default).
    const key = vars.livekit_udp_range
      ? "livekit_udp_range"
      : vars.livekit_udp_port
        ? "livekit_udp_port"
        : "coturn_relay_range";
    ctx.addIssue({
      code: "custom",
      path: [key],
      message: `LiveKit's UDP ${low}-${high} overlaps coturn's relay range ${relay[0]}-${relay[1]}: move one of them (coturn_relay_range defaults to 49152-50151)`,
    });
  }
}
