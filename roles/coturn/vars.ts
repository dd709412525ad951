import { z } from "zod";
import {
  image,
  ipAddress,
  livekitPorts,
  metricsClients,
  names,
  placement,
  portRules,
  turnPorts,
  turnSecret,
  turnTls,
} from "../matrixrtc/index.js";

export const coturnVars = z
  .object({
    ...placement,
    ...turnPorts,
    ...turnSecret,
    // LiveKit's UDP ports are read only to refuse a relay range that overlaps them.
    ...livekitPorts,
    /** The default of turn_host: the realm, and the name LiveKit and Synapse hand to clients. */
    livekit_host: names.livekit_host,
    /** Announced as external-ip: the address clients and LiveKit send relayed media to. */
    public_ip: ipAddress,
    /**
     * The local address relays are bound to: by default public_ip. On a host behind 1:1 NAT set its
     * private address (external-ip still announces public_ip). Without it coturn relays on every
     * address, Docker's bridges included, where clients cannot reach and peers are refused.
     */
    coturn_relay_ip: ipAddress.optional(),
    /** LiveKit nodes on other hosts whose address is private (a split deployment on a private network): relays to them are allowed. */
    coturn_allowed_peer_ips: z.array(ipAddress).default([]),
    coturn_image: image.default("docker.io/coturn/coturn:4.17.0"),
    /** Lines for turnserver.conf the role does not write (`option` or `option=value`), appended. */
    coturn_config_extra: z
      .array(
        z.string().regex(/^[a-z][a-z0-9-]*(=[^\n]*)?$/, "expected one coturn option per item: option or option=value"),
      )
      .default([]),
    /** Restart coturn after renewing the certificate: it reads it at start. */
    ...turnTls,
    /** false: no coturn here (another TURN server, or none); one deployed before is removed. */
    coturn_enabled: z.boolean().default(true),
    ...metricsClients,
    /**
     * coturn's Prometheus endpoint (9641, /metrics) for metrics_clients. It needs a coturn built with
     * Prometheus support (the coturn/coturn image); Debian's package has none, and is refused.
     */
    coturn_metrics: z.boolean().default(false),
    /** The group the image runs turnserver as (the official image: nobody/nogroup), which must read the config. */
    coturn_gid: z.number().int().min(0).default(65534),
  })
  .superRefine(portRules)
  .superRefine((vars, ctx) => {
    if (vars.coturn_metrics && !vars.metrics_clients.length)
      ctx.addIssue({
        code: "custom",
        path: ["coturn_metrics"],
        message: "needs metrics_clients: the addresses of the Prometheus servers the firewall admits to 9641",
      });
    if (!vars.coturn_tls_certificate !== !vars.coturn_tls_key_path)
      ctx.addIssue({
        code: "custom",
        path: ["coturn_tls_certificate"],
        message: "TURN over TLS needs both coturn_tls_certificate and coturn_tls_key_path",
      });
    if (vars.coturn_tls_port !== 5349 && !vars.coturn_tls_certificate)
      ctx.addIssue({
        code: "custom",
        path: ["coturn_tls_port"],
        message: "is for TURN over TLS, which needs coturn_tls_certificate and coturn_tls_key_path",
      });
    if (vars.coturn_tls_port === 443 && !vars.turn_ip)
      ctx.addIssue({
        code: "custom",
        path: ["turn_ip"],
        message:
          "is needed with coturn_tls_port 443: the address turn_host resolves to, coturn's alone (a second address of the host when Caddy serves 443 there, else its public_ip)",
      });
    if ([3478, vars.livekit_tcp_port].includes(vars.coturn_tls_port))
      ctx.addIssue({
        code: "custom",
        path: ["coturn_tls_port"],
        message: `${vars.coturn_tls_port} is taken (TURN's 3478, or LiveKit's ICE/TCP port): 443 or 5349`,
      });
  });

export type CoturnVars = z.output<typeof coturnVars>;
