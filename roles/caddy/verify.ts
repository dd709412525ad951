import { check, raw, sh } from "../../src/rigger.js";
import { jwtServiceUrl } from "../matrixrtc.js";
import type { CaddyVars } from "./vars.js";

/** Caddy's own CA (caddy_tls "internal"), as Debian's package keeps it. */
const CADDY_INTERNAL_ROOT = "/var/lib/caddy/.local/share/caddy/pki/authorities/local/root.crt";

/**
 * A curl command, run on the Caddy host, that asks Caddy for https://HOST/PATH as a client would
 * (SNI and Host of that name, the certificate verified: against Caddy's CA with "internal" TLS)
 * and prints the response headers and body.
 */
function httpsRequest(tls: string, host: string, path: string): string {
  return sh`curl -sS --max-time 10 -D - --resolve ${`${host}:443:127.0.0.1`} ${tls === "internal" ? ["--cacert", CADDY_INTERNAL_ROOT] : []} ${`https://${host}${path}`}`;
}

/** A shell test that the output in $out holds each of these fixed strings (case-insensitive). */
const outputHolds = (...needles: string[]) => needles.map((n) => sh`printf '%s' "$out" | tr -d '\r' | grep -qiF -- ${n}`).join(" && ");

/** The probes after a converge: the well-known as clients need it, and a certificate they trust for every name. */
export const caddyProbes = (vars: CaddyVars) => [
  check({
    name: "the well-known advertises the SFU, as JSON with CORS",
    command: `out=$(${httpsRequest(vars.caddy_tls, vars.matrix_server_name, "/.well-known/matrix/client")}) && ${outputHolds(
      "HTTP/2 200",
      "content-type: application/json",
      "access-control-allow-origin: *",
      `"livekit_service_url":"${jwtServiceUrl(vars)}"`,
    )} && printf '%s\n' "$out"`,
    timeoutSeconds: 30,
    failure: `https://${vars.matrix_server_name}/.well-known/matrix/client does not answer 200 application/json with CORS and rtc_foci ${jwtServiceUrl(vars)}`,
  }),
  check({
    name: "every hostname has a certificate clients trust",
    // Any status will do (a service may come later in the rollout): the handshake is what is checked.
    command: [vars.matrix_host, vars.livekit_host, vars.element_call_host].map((h) => sh`echo ${h}: && ${raw(httpsRequest(vars.caddy_tls, h, "/"))} | head -1`).join(" && "),
    timeoutSeconds: 30,
    failure: "a hostname's TLS handshake failed (certificate not issued or not trusted)",
  }),
];
