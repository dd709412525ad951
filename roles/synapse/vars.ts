import { z } from "zod";
import {
  backupTimeout,
  configExtra,
  image,
  metricsClients,
  metricsPort,
  names,
  placement,
  postgresPassword,
  published,
  secret,
  shape,
  synapseDatabase,
  turnPorts,
  turnSecret,
  turnTls,
} from "../matrixrtc/index.js";

const transport = z.object({ type: z.literal("livekit"), livekit_service_url: z.url() });

export const synapseVars = z
  .object({
    matrix_server_name: names.matrix_server_name,
    matrix_host: names.matrix_host,
    livekit_host: names.livekit_host,
    ...placement,
    homeserver: shape.homeserver,
    matrixrtc_bind_address: published.matrixrtc_bind_address,
    synapse_port: published.synapse_port,
    turn_host: turnPorts.turn_host,
    ...turnSecret,
    ...turnTls,
    synapse_image: image.default("docker.io/matrixdotorg/synapse:v1.159.0"),
    ...synapseDatabase,
    ...postgresPassword,
    ...backupTimeout,
    ...metricsClients,
    /** Where Synapse's metrics listener is published for metrics_clients, when there are any (/_synapse/metrics). */
    synapse_metrics_port: metricsPort("synapse"),
    /** Where Synapse keeps its media (and its database with SQLite). */
    synapse_data_dir: z.string().startsWith("/").default("/var/lib/matrixrtc/synapse"),
    /** The user the image runs Synapse as (its UID/GID default), who must read the config and own the data. */
    synapse_uid: z.number().int().min(0).default(991),
    /** Federation with other servers. Off: none in either direction; the listener still serves `openid`, which the jwt service needs. */
    synapse_federation: z.boolean().default(true),
    /**
     * How many people may be in calls at once whose leave the jwt service keeps for them: each
     * restarts a delayed event about every 8 s, all from the jwt service's one address, which
     * `rc_delayed_event_mgmt` limits.
     */
    synapse_delayed_event_callers: z.number().int().min(1).default(100),
    /** MSC4143: Synapse advertises the MatrixRTC transports; Element Call 0.24 finds the SFU only there (or in its config.json). */
    synapse_msc4143_enabled: z
      .literal(true, {
        error:
          "must be true while Element Call is deployed: Element Call 0.24 no longer reads rtc_foci from the well-known and finds the SFU through Synapse's MSC4143 transports; with it off calls fail without an error",
      })
      .default(true),
    /** The transports it advertises; by default the jwt service at https://matrix_host/_livekit. */
    synapse_rtc_transports: z.array(transport).optional(),
    /** Delayed events (MSC4140): how long a client may delay one (its call-leave event). */
    synapse_max_event_delay_duration: z
      .string()
      .regex(/^\d+[smhd]$/, "expected a duration such as 24h")
      .default("24h"),
    /** Anything else for homeserver.yaml (registration, SSO, ...), deep-merged over what the role writes (mappings merge, the rest replaces); msc4143_enabled cannot be turned off there. */
    synapse_config_extra: configExtra,
    synapse_registration_shared_secret: secret,
    synapse_macaroon_secret_key: secret,
    synapse_form_secret: secret,
    /** `ed25519 a_XXXX <base64>`: generated once; a new one makes other servers distrust old events' signatures. */
    synapse_signing_key: z
      .string()
      .regex(/^ed25519 a_\w+ [A-Za-z0-9+/]{43}$/, "expected `ed25519 <key id> <unpadded base64 seed>`"),
  })
  .superRefine((vars, ctx) => {
    const features = vars.synapse_config_extra.experimental_features as { msc4143_enabled?: unknown } | undefined;
    if (features?.msc4143_enabled !== undefined && features.msc4143_enabled !== true)
      ctx.addIssue({
        code: "custom",
        path: ["synapse_config_extra", "experimental_features", "msc4143_enabled"],
        message: "must stay true while Element Call is deployed: it finds the SFU through MSC4143",
      });
    if (vars.synapse_rtc_transports?.length === 0)
      ctx.addIssue({
        code: "custom",
        path: ["synapse_rtc_transports"],
        message: "is empty: Synapse would answer {} and Element Call finds no SFU; list a transport or leave it unset",
      });
  });

export type SynapseVars = z.output<typeof synapseVars>;
