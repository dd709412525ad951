import { z } from "zod";
import { check, defineRole, file, sh } from "../../src/rigger.js";
import { containers, jwtServiceUrl, placement, servesWellKnown } from "../matrixrtc/index.js";
import { siteVars } from "../sites/index.js";
import { clientApiChecks } from "../synapse/client-api.js";
import { homeserverSettings, synapseSettings, wellKnownSetting } from "./settings.js";

const vars = z.object({ ...siteVars, ...placement });

/** curl's --resolve for the names the containers find through matrixrtc_extra_hosts (a testbed without DNS); none otherwise. */
const resolving = (extraHosts: Record<string, string>) =>
  Object.entries(extraHosts).flatMap(([name, ip]) =>
    ["443", "8448"].flatMap((port) => ["--resolve", `${name}:${port}:${ip}`]),
  );

/** Reads curl's headers and body: CORS for every origin, and an rtc_foci entry with the URL (argv[1]). */
const WELL_KNOWN_SCRIPT = [
  "import json, sys",
  'head, _, body = sys.stdin.read().replace("\\r", "").partition("\\n\\n")',
  'cors = any(line.lower().replace(" ", "") == "access-control-allow-origin:*" for line in head.split("\\n"))',
  'foci = json.loads(body).get("org.matrix.msc4143.rtc_foci", [])',
  "print(json.dumps(foci))",
  'sys.exit(0 if cors and any(f.get("livekit_service_url") == sys.argv[1] for f in foci) else 1)',
].join("\n");

/** The federation endpoint the jwt service checks OpenID tokens at: the well-known's m.server, else the server name on 8448 (SRV is not followed). */
const openidCheck = (serverName: string, curlOptions: string[]) =>
  [
    `server=$(${sh`curl -sS --max-time 10 ${curlOptions} ${`https://${serverName}/.well-known/matrix/server`}`} 2>/dev/null | ${sh`python3 -c ${'import json, sys; print(json.load(sys.stdin)["m.server"])'}`} 2>/dev/null) || ${sh`server=${serverName}`}`,
    `case "$server" in *:*) ;; *) server="$server:8448" ;; esac`,
    `echo "federation at $server:"`,
    `${sh`curl -sS --max-time 10 ${curlOptions} -w ${" %{http_code}"}`} "https://$server/_matrix/federation/v1/openid/userinfo?access_token=rigger-probe" | grep -E 'M_UNKNOWN_TOKEN.* 401$'`,
  ].join("\n");

/** Prints the client-server API URL a server name's override names in the jwt container's LIVEKIT_CS_API_URL_OVERRIDES (argv[1]), if any. */
const OVERRIDE_SCRIPT = [
  "import sys",
  'pairs = [line.split("=", 1)[1] for line in sys.stdin.read().splitlines() if line.startswith("LIVEKIT_CS_API_URL_OVERRIDES=")]',
  'found = [p.split("=", 1)[1].strip() for p in (pairs[0].split(",") if pairs else []) if p.split("=", 1)[0].strip() == sys.argv[1]]',
  'print(found[0] if found else "")',
].join("\n");

/**
 * How lk-jwt-service 0.6.0 finds the homeserver's client-server API for a delegated leave, tried as
 * it would from its container's network (the host's curl in that namespace, the names the container
 * resolves given with --resolve): an override for the server name, else the server name's
 * well-known `m.homeserver.base_url`, which must answer `/_matrix/client/versions`.
 */
const jwtResolutionCheck = (serverName: string, curlOptions: string[]) =>
  [
    `pid=$(${sh`docker inspect -f '{{.State.Pid}}' ${containers.jwt}`}) && [ "$pid" -gt 0 ]`,
    `override=$(${sh`docker inspect -f '{{range .Config.Env}}{{println .}}{{end}}' ${containers.jwt}`} | ${sh`python3 -c ${OVERRIDE_SCRIPT} ${serverName}`})`,
    'if [ -n "$override" ]; then echo "LIVEKIT_CS_API_URL_OVERRIDES names $override"; exit 0; fi',
    `base=$(nsenter -t "$pid" -n ${sh`curl -sS --max-time 10 ${curlOptions} ${`https://${serverName}/.well-known/matrix/client`}`} | ${sh`python3 -c ${'import json, sys; print(json.load(sys.stdin)["m.homeserver"]["base_url"])'}`})`,
    'echo "from the jwt container: the well-known names $base"',
    `nsenter -t "$pid" -n ${sh`curl -sS --max-time 10 ${curlOptions} -o /dev/null -w ${"%{http_code}"}`} "\${base%/}/_matrix/client/versions" | grep -x 200`,
  ].join("\n");

/**
 * `homeserver: existing`: the operator's homeserver, never touched, checked from the jwt service's
 * host against what it must serve for this SFU. The settings are written beside the deployment's
 * config, and every failing check prints the part the homeserver lacks.
 */
export default defineRole({
  name: "existing_homeserver",
  vars,
  enabled: (v) => v.homeserver === "existing",
  tasks: (v) => [file({ path: `${v.matrixrtc_config_dir}/existing-homeserver.yaml`, content: homeserverSettings(v) })],
  verify: (v) => {
    const curlOptions = resolving(v.matrixrtc_extra_hosts);
    const synapseFix = `; in homeserver.yaml:\n${synapseSettings(v)}(all of it in ${v.matrixrtc_config_dir}/existing-homeserver.yaml)`;
    return [
      ...(servesWellKnown(v)
        ? []
        : [
            check({
              name: "the homeserver's well-known advertises this SFU",
              command: `${sh`curl -sS --max-time 10 -D - ${curlOptions} ${`https://${v.matrix_server_name}/.well-known/matrix/client`}`} | ${sh`python3 -c ${WELL_KNOWN_SCRIPT} ${jwtServiceUrl(v)}`}`,
              failure: `the homeserver's well-known does not advertise ${jwtServiceUrl(v)} with CORS; serve ${wellKnownSetting(v)}`,
            }),
          ]),
      ...clientApiChecks("the homeserver", `https://${v.matrix_host}`, curlOptions, synapseFix),
      check({
        name: "the homeserver's federation API answers OpenID checks (the jwt service validates users there)",
        command: openidCheck(v.matrix_server_name, curlOptions),
        failure: `the homeserver's federation API did not answer /_matrix/federation/v1/openid/userinfo with 401 M_UNKNOWN_TOKEN: the jwt service cannot check its users (serve /.well-known/matrix/server or 8448)`,
      }),
      check({
        name: "the jwt service finds the homeserver's client-server API from its container (where it sends a delegated leave)",
        command: jwtResolutionCheck(v.matrix_server_name, curlOptions),
        failure: `the jwt service cannot find ${v.matrix_server_name}'s client-server API from its container: every token request that hands over a leave (Element Call's matrix_2_0 mode) is refused 400 "Unable to resolve client-server API"; serve m.homeserver.base_url at https://${v.matrix_server_name}/.well-known/matrix/client where the container reaches it, or set lk_jwt_cs_api_url_overrides`,
      }),
    ];
  },
});
