import { z } from "zod";
import {
  clientAddresses,
  configExtra,
  image,
  ipAddress,
  livekitKeys,
  livekitPorts,
  metricsClients,
  metricsPort,
  names,
  pemCertificates,
  placement,
  portRules,
  published,
  secret,
  shape,
  turnPorts,
  turnSecret,
  turnTls,
} from "../matrixrtc/index.js";

/** Where LiveKit posts its webhook (also read by the livekit_webhook role, which proves it is delivered). */
export const webhookVars = {
  matrix_host: names.matrix_host,
  livekit_host: names.livekit_host,
  homeserver: shape.homeserver,
  matrixrtc_bind_address: published.matrixrtc_bind_address,
  livekit_port: published.livekit_port,
  /** Caddy hosts other than this one (their addresses): 7880 is then published to them only. */
  livekit_api_clients: clientAddresses,
  /**
   * Where LiveKit reports participants joining and leaving: the jwt service's /sfu_webhook, which
   * sends a crashed client's delayed leave event at once. By default the jwt service on this host,
   * or its public URL's /sfu_webhook when the proxy runs elsewhere (livekit_api_clients set).
   */
  livekit_webhook_url: z.url({ protocol: /^https?$/ }).optional(),
  /**
   * Roots (PEM) LiveKit trusts for its webhook's HTTPS besides its image's own: for matrix_host
   * certificates from a private CA. Unset: the image's bundle alone.
   */
  livekit_ca_certificates: pemCertificates.optional(),
};

export const livekitVars = z
  .object({
    ...placement,
    ...livekitPorts,
    ...livekitKeys,
    ...turnPorts,
    ...turnSecret,
    ...turnTls,
    livekit_image: image.default("docker.io/livekit/livekit-server:v1.13.5"),
    /** The address clients send media to: the host's public IP (`rtc.node_ip`). */
    public_ip: ipAddress,
    /** STUN discovery of the public address; off by default (it often fails on a Docker bridge). */
    livekit_use_external_ip: z.boolean().default(false),
    /** Must stay false: with true, any valid token creates rooms (LiveKit's own default). */
    livekit_auto_create: z
      .literal(false, {
        error:
          "must be false: with true any valid LiveKit token creates rooms; the jwt service creates them for full-access homeservers",
      })
      .default(false),
    /** Redis for distributed mode (several SFU nodes): host:port; unset for one node. */
    livekit_redis_address: z
      .string()
      .regex(/^[\w.-]+:\d+$/, "expected host:port")
      .optional(),
    redis_password: secret,
    /** How long a restart waits for the node's calls to end (LiveKit drains on SIGTERM) before it forces one. */
    livekit_drain_seconds: z.number().int().min(0).default(600),
    /** LiveKit's log level. */
    livekit_log_level: z.enum(["debug", "info", "warn", "error"]).default("info"),
    ...metricsClients,
    /** Where LiveKit serves Prometheus metrics (/metrics) to metrics_clients, when there are any. */
    livekit_metrics_port: metricsPort("livekit"),
    /** Anything else for livekit.yaml (ICE interface filters, limits, ...), deep-merged over what the role writes; room.auto_create cannot be turned on there. */
    livekit_config_extra: configExtra,
    ...webhookVars,
  })
  .superRefine(portRules)
  .superRefine((vars, ctx) => {
    const room = vars.livekit_config_extra.room as { auto_create?: unknown } | undefined;
    if (room?.auto_create !== undefined && room.auto_create !== false)
      ctx.addIssue({
        code: "custom",
        path: ["livekit_config_extra", "room", "auto_create"],
        message:
          "must stay false: with true any valid LiveKit token creates rooms (the escape hatch does not lift this)",
      });
  });

export type LivekitVars = z.output<typeof livekitVars>;
