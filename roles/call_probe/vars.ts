import { z } from "zod";
import { names, placement, published, secret, shape } from "../matrixrtc/index.js";

const localpart = z
  .string()
  .regex(/^[a-z0-9._=\/-]+$/, "expected a Matrix user name's local part (lower-case letters, digits, ._=-/)");

export const callProbeVars = z.object({
  matrix_server_name: names.matrix_server_name,
  matrix_host: names.matrix_host,
  livekit_host: names.livekit_host,
  element_call_host: names.element_call_host,
  homeserver: shape.homeserver,
  element_call_enabled: shape.element_call_enabled,
  matrixrtc_config_dir: placement.matrixrtc_config_dir,
  synapse_port: published.synapse_port,
  /** With "internal", the probe trusts Caddy's own CA, read from the host. */
  caddy_tls: z.enum(["acme", "internal", "files"]).default("acme"),
  /**
   * Make the call: `-e call_probe=true` (LiveKit's Node client) or `-e call_probe=browser` (Chromium
   * on Element Call's page) on verify.ts or site.ts. Off by default: it registers two users.
   */
  call_probe: z
    .union([z.boolean(), z.enum(["true", "false", "node", "browser"])])
    .transform((v) => (v === true || v === "true" ? "node" : v === false || v === "false" ? false : v))
    .default(false),
  /**
   * The way the media must take: "any" (as the client chooses), "relay" (only through coturn, as
   * on a network that allows nothing else), "relay-tls" (only TURN over TLS; call_probe=browser).
   */
  call_probe_path: z.enum(["any", "relay", "relay-tls"]).default("any"),
  /** The Chromium the browser probe runs (the distribution's; with libnss3-tools for caddy_tls internal). */
  call_probe_chromium: z.string().default("/usr/bin/chromium"),
  /** The probe's two Matrix users, registered once with the shared secret, logged in afterwards. */
  call_probe_users: z.tuple([localpart, localpart]).default(["rigger-probe-1", "rigger-probe-2"]),
  call_probe_password: secret,
  synapse_registration_shared_secret: secret,
  /** Audio frames (10 ms each) that must cross the SFU (call_probe=true). */
  call_probe_frames: z.number().int().min(1).default(50),
  /** How long the call may take to carry them (call_probe=true). */
  call_probe_timeout_seconds: z.number().int().min(1).default(20),
  /** How long the browsers hold the call once each receives the other, measured every half second (the report's charts). */
  call_probe_seconds: z.number().int().min(1).max(300).default(5),
});

export type CallProbeVars = z.output<typeof callProbeVars>;
