/** Where things are: the names, addresses, URLs, container names and paths the roles derive from the variables. */
import { type Fleet } from "../../src/rigger.js";

type Shape = { homeserver: "synapse" | "existing"; well_known_enabled?: boolean };

export const servesWellKnown = (vars: Shape) => vars.well_known_enabled ?? vars.homeserver === "synapse";

export type Published = { matrixrtc_bind_address: string };

export const bindHost = (vars: Published) =>
  vars.matrixrtc_bind_address.includes(":") ? `[${vars.matrixrtc_bind_address}]` : vars.matrixrtc_bind_address;

/** host:port of a published port, as the proxy and the host's own probes reach it. */
export const publishedAt = (vars: Published, port: number) => `${bindHost(vars)}:${port}`;

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

/**
 * The groups whose hosts run each part of the deployment (playbooks/site.ts): `matrixrtc` (or MDAD's
 * `matrix_servers`) runs everything on one host; a split deployment gives each part its own group.
 */
export const DEPLOYMENT_GROUPS = {
  proxy: ["matrixrtc", "matrix_servers", "proxy"],
  redis: ["redis"],
  sfu: ["matrixrtc", "matrix_servers", "sfu"],
  homeserver: ["matrixrtc", "matrix_servers", "homeserver"],
  turn: ["matrixrtc", "matrix_servers", "turn"],
} as const;

export type DeploymentPart = keyof typeof DEPLOYMENT_GROUPS;

/** A play's host pattern: the hosts of these parts of the deployment. */
export const hostsOf = (...parts: DeploymentPart[]) =>
  [...new Set(parts.flatMap((part) => DEPLOYMENT_GROUPS[part]))].join(":");

/** Only what a group yields: an empty group leaves the role's own default in place. */
export const derivedWhen = <T>(values: T[], derived: (values: T[]) => Record<string, unknown>) =>
  values.length ? derived(values) : {};

/** turn_host, defaulted to livekit_host: a one-host deployment names nothing twice. */
export const turnHost = (vars: { turn_host?: string; livekit_host: string }) => vars.turn_host ?? vars.livekit_host;

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
  postgresExporter: "matrixrtc-postgres-exporter",
  redisExporter: "matrixrtc-redis-exporter",
};

/** The database, its user and the container Synapse reaches it at, on the services' network. */
export const SYNAPSE_DB = { name: "synapse", user: "synapse", port: 5432 };

/** The command that makes a backup on the host (role backup); where it is not installed yet, nothing. */
export const BACKUP_COMMAND = "/usr/local/sbin/matrixrtc-backup";

/** What a data-holding container runs before an upgrade: a backup, once the backup role has installed its command. */
export const backupBeforeUpgrade = (vars: { backup_timeout: number }) => ({
  command: `if [ -x ${BACKUP_COMMAND} ]; then ${BACKUP_COMMAND}; fi`,
  timeoutSeconds: vars.backup_timeout,
});

/** The database dump a restore leaves for the postgres role to load into the new, empty database. */
export const pendingRestoreDump = (vars: { backup_dir: string }) => `${vars.backup_dir}/restore/synapse.pgdump`;
