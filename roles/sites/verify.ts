import { check, raw, sh, when } from "../../src/rigger.js";
import { jwtServiceUrl, servesWellKnown } from "../matrixrtc/index.js";
import { sites, type SiteVars } from "./index.js";

/** The proxy's certificates: trusted through the host's store, or `cacert` (Caddy's own CA with caddy_tls "internal"). */
export interface Trust {
  cacert?: string;
}

/**
 * A curl command, run on the proxy host, that asks the proxy for https://HOST/PATH as a client would
 * (SNI and Host of that name, the certificate verified) and prints the response headers and body.
 */
function httpsRequest(trust: Trust, host: string, path: string): string {
  return sh`curl -sS --max-time 10 -D - --resolve ${`${host}:443:127.0.0.1`} ${trust.cacert ? ["--cacert", trust.cacert] : []} ${`https://${host}${path}`}`;
}

/** A shell test that the output in $out holds each of these fixed strings (case-insensitive). */
const outputHolds = (...needles: string[]) =>
  needles.map((n) => sh`printf '%s' "$out" | tr -d '\r' | grep -qiF -- ${n}`).join(" && ");

/**
 * How long a proxy that has just started may take to hold its certificates: Caddy orders them as it
 * starts, and retries a failed order after a minute, so the wait covers one retry.
 */
const CERTIFICATE_ORDER_SECONDS = 150;

/** The well-known as clients need it (when this deployment serves it), and a certificate clients trust for every name. */
export const proxyProbes = (vars: SiteVars, trust: Trust) => [
  ...(servesWellKnown(vars)
    ? [
        check({
          name: "the well-known advertises the SFU, as JSON with CORS",
          command: `out=$(${httpsRequest(trust, vars.matrix_server_name, "/.well-known/matrix/client")}) && ${outputHolds(
            "HTTP/2 200",
            "content-type: application/json",
            "access-control-allow-origin: *",
            `"livekit_service_url":"${jwtServiceUrl(vars)}"`,
          )} && printf '%s\n' "$out"`,
          timeoutSeconds: CERTIFICATE_ORDER_SECONDS,
          failure: `https://${vars.matrix_server_name}/.well-known/matrix/client does not answer 200 application/json with CORS and rtc_foci ${jwtServiceUrl(vars)}`,
        }),
      ]
    : []),
  check({
    name: "every hostname has a certificate clients trust",
    // Any status will do (a service may come later in the rollout): the handshake is what is checked.
    command: sites(vars)
      .map((site) => sh`echo ${site.name}: && ${raw(httpsRequest(trust, site.name, "/"))} | head -1`)
      .join(" && "),
    timeoutSeconds: CERTIFICATE_ORDER_SECONDS,
    failure: "a hostname's TLS handshake failed (certificate not issued or not trusted)",
  }),
  // Caddy's own CA issues certificates for 12 hours and renews them itself: only real ones are watched.
  ...when(!trust.cacert, () => certificateExpiryCheck(sites(vars).map((site) => site.name))),
];

/**
 * When the first of the proxy's certificates expires, as a client receives them: an expired one
 * fails; the time is what --metrics writes for role monitoring's alert.
 */
const certificateExpiryCheck = (names: string[]) =>
  check({
    name: "no certificate has expired, and the first to expire is measured",
    command: [
      "first=",
      `for name in ${names.map((n) => sh`${n}`).join(" ")}; do`,
      ` end=$(echo | openssl s_client -connect 127.0.0.1:443 -servername "$name" 2>/dev/null | openssl x509 -noout -enddate | cut -d= -f2)`,
      ` [ -n "$end" ] || { echo "$name: no certificate"; exit 1; }`,
      ` at=$(date -d "$end" +%s); echo "$name: expires $end"`,
      ' if [ -z "$first" ] || [ "$at" -lt "$first" ]; then first=$at; fi',
      "done",
      '[ "$first" -gt "$(date +%s)" ] && echo "$first"',
    ].join("\n"),
    failure: "a certificate of the proxy has expired, or could not be read (is openssl installed?)",
    measure: {
      metric: "certificate_expiry_timestamp_seconds",
      help: "When the first of the proxy's certificates expires (seconds since the epoch).",
    },
  });

/** Each route reaches its service through the proxy (run once the services are up): the proof an operator's proxy config is complete. */
export const routeProbes = (vars: SiteVars, trust: Trust) =>
  sites(vars).flatMap((site) =>
    site.routes.flatMap((route) =>
      route.probe
        ? [
            check({
              name: `https://${site.name}${route.probe} reaches its service through the proxy`,
              command: `${httpsRequest(trust, site.name, route.probe)} | head -1 | grep -E '^HTTP/[0-9.]+ 200'`,
              timeoutSeconds: 30,
              failure: `https://${site.name}${route.probe} does not answer 200 through the proxy: is the snippet included and the proxy reloaded?`,
            }),
          ]
        : [],
    ),
  );
