import { z } from "zod";
import { clientAddresses, image, metricsClients, metricsPort, placement, secret } from "../matrixrtc/index.js";

export const redisVars = z.object({
  ...placement,
  redis_image: image.default("docker.io/library/redis:7.4.2-alpine"),
  /** Generated once when unset. LiveKit nodes authenticate with it. */
  redis_password: secret,
  /** The user the image runs Redis as (the official image's `redis`), who must read the config. */
  redis_uid: z.number().int().min(0).default(999),
  /**
   * LiveKit nodes on other hosts (their addresses): 6379 is then published, and the firewall
   * admits these addresses only. Empty: Redis stays on the Docker network of its host.
   */
  redis_clients: clientAddresses,
  ...metricsClients,
  /** Redis's Prometheus exporter, run with metrics_clients. */
  redis_exporter_image: image.default("docker.io/oliver006/redis_exporter:v1.74.0"),
  /** Where the exporter's metrics are published for metrics_clients. */
  redis_exporter_port: metricsPort("redis"),
  /** The user the exporter's image runs as, who must read its password file. */
  redis_exporter_uid: z.number().int().min(0).default(59000),
});

export type RedisVars = z.output<typeof redisVars>;
