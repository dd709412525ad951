import { z } from "zod";
import { image, placement, secret } from "../matrixrtc.js";

export const redisVars = z.object({
  ...placement,
  redis_image: image.default("docker.io/library/redis:7-alpine"),
  /** Generated once when unset. LiveKit nodes authenticate with it. */
  redis_password: secret,
  /** The user the image runs Redis as (the official image's `redis`), who must read the config. */
  redis_uid: z.number().int().min(0).default(999),
});
