import { z } from "zod";
import { hostname, image, livekitKeys, names, placement, published, shape } from "../matrixrtc/index.js";

const fullAccessHomeserver = z
  .string()
  .refine((v) => v !== "*", {
    message: "must name homeservers, never *: with * any Matrix user anywhere could make the SFU create rooms",
    abort: true,
  })
  .pipe(hostname);

export const lkJwtVars = z.object({
  matrix_server_name: names.matrix_server_name,
  livekit_host: names.livekit_host,
  element_call_host: names.element_call_host,
  ...placement,
  homeserver: shape.homeserver,
  matrixrtc_bind_address: published.matrixrtc_bind_address,
  lk_jwt_port: published.lk_jwt_port,
  ...livekitKeys,
  lk_jwt_image: image.default("ghcr.io/element-hq/lk-jwt-service:0.6.0"),
  /** Homeservers whose users make the service create rooms; by default matrix_server_name. */
  jwt_full_access_homeservers: z.array(fullAccessHomeserver).min(1).optional(),
  /**
   * How often a delegated leave checks that its participant is still on the SFU: the fallback when
   * LiveKit's webhook is missed (0: off, as upstream's default).
   */
  lk_jwt_sanity_check_seconds: z.number().int().min(0).default(30),
  /**
   * Where the service reaches a homeserver's client API to send delayed leave events (server name ->
   * URL); by default matrix_server_name -> Synapse on the services' network, as ESS sets it, and
   * none beside an existing homeserver (found through its well-known, as upstream does).
   */
  lk_jwt_cs_api_url_overrides: z.record(hostname, z.url({ protocol: /^https?$/ })).optional(),
  /** Tests only: accept the homeserver's and LiveKit's certificates unverified (a test CA). */
  lk_jwt_insecure_skip_verify_tls: z.boolean().default(false),
});
