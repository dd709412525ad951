import { z } from "zod";
import { configExtra, image, names, placement, published, shape } from "../matrixrtc/index.js";

export const elementCallVars = z.object({
  matrix_server_name: names.matrix_server_name,
  matrix_host: names.matrix_host,
  livekit_host: names.livekit_host,
  ...placement,
  homeserver: shape.homeserver,
  element_call_enabled: shape.element_call_enabled,
  matrixrtc_bind_address: published.matrixrtc_bind_address,
  element_call_port: published.element_call_port,
  element_call_image: image.default("ghcr.io/element-hq/element-call:v0.24.0"),
  /** "compatibility" (the legacy and the Matrix 2.0 call protocols both), or "matrix_2_0". */
  element_call_rtc_mode: z.enum(["compatibility", "matrix_2_0", "legacy"]).default("compatibility"),
  /** Anything else for config.json, deep-merged over what the role writes. */
  element_call_config_extra: configExtra,
});
