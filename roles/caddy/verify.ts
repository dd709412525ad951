import { proxyProbes } from "../sites/verify.js";
import type { CaddyVars } from "./vars.js";

/** Caddy's own CA (caddy_tls "internal"), as Debian's package keeps it. */
const CADDY_INTERNAL_ROOT = "/var/lib/caddy/.local/share/caddy/pki/authorities/local/root.crt";

/** The probes after a converge, trusting Caddy's own CA with "internal", the host's store otherwise. */
export const caddyProbes = (vars: CaddyVars) =>
  proxyProbes(vars, vars.caddy_tls === "internal" ? { cacert: CADDY_INTERNAL_ROOT } : {});
