import { z } from "zod";
import { hostname, image, livekitKeys, names, placement } from "../matrixrtc.js";

const fullAccessHomeserver = z
  .string()
  .refine((v) => v !== "*", { message: "must name homeservers, never *: with * any Matrix user anywhere could make the SFU create rooms", abort: true })
  .pipe(hostname);

export const lkJwtVars = z.object({
  matrix_server_name: names.matrix_server_name,
  livekit_host: names.livekit_host,
  ...placement,
  ...livekitKeys,
  lk_jwt_image: image.default("ghcr.io/element-hq/lk-jwt-service:0.6.0"),
  /** Homeservers whose users make the service create rooms; by default matrix_server_name. */
  jwt_full_access_homeservers: z.array(fullAccessHomeserver).min(1).optional(),
  /** Tests only: accept the homeserver's and LiveKit's certificates unverified (a test CA). */
  lk_jwt_insecure_skip_verify_tls: z.boolean().default(false),
});
