import { z } from "zod";
import { clientAddresses, image, placement, secret } from "../matrixrtc/index.js";

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
});
