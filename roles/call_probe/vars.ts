import { z } from "zod";
import { names, placement, published, secret, shape } from "../matrixrtc/index.js";

const localpart = z
  .string()
  .regex(/^[a-z0-9._=\/-]+$/, "expected a Matrix user name's local part (lower-case letters, digits, ._=-/)");

export const callProbeVars = z.object({
  matrix_server_name: names.matrix_server_name,
  matrix_host: names.matrix_host,
  livekit_host: names.livekit_host,
  homeserver: shape.homeserver,
  matrixrtc_config_dir: placement.matrixrtc_config_dir,
  synapse_port: published.synapse_port,
  /** With "internal", the probe trusts Caddy's own CA, read from the host. */
  caddy_tls: z.enum(["acme", "internal", "files"]).default("acme"),
  /** Make the call: `-e call_probe=true` on verify.ts or site.ts. Off by default: it registers two users. */
  call_probe: z.union([z.boolean(), z.enum(["true", "false"]).transform((v) => v === "true")]).default(false),
  /** The probe's two Matrix users, registered once with the shared secret, logged in afterwards. */
  call_probe_users: z.tuple([localpart, localpart]).default(["rigger-probe-1", "rigger-probe-2"]),
  call_probe_password: secret,
  synapse_registration_shared_secret: secret,
  /** Audio frames (10 ms each) that must cross the SFU. */
  call_probe_frames: z.number().int().min(1).default(50),
  /** How long the call may take to carry them. */
  call_probe_timeout_seconds: z.number().int().min(1).default(20),
});

export type CallProbeVars = z.output<typeof callProbeVars>;
