import { check, defineRole, directory, file, onHost, sh, waitFor } from "../../src/rigger.js";
import {
  containers,
  generatedSecrets,
  livekitKeyFile,
  livekitUrl,
  privateFilesCheck,
  publishedAt,
  publishedOnlyCheck,
  serviceContainer,
} from "../matrixrtc/index.js";
import { lkJwtVars } from "./vars.js";

/**
 * lk-jwt-service: Matrix OpenID -> LiveKit tokens, on 127.0.0.1:8380 (lk_jwt_port) behind the proxy's /_livekit/,
 * and the delegated leave: LiveKit's webhook (/sfu_webhook) tells it who vanished, and it sends
 * their delayed leave event to Synapse (over the services' network) at once.
 * The key reaches it as a file (LIVEKIT_KEY_FILE), never through its environment or argv; the
 * file's content is part of the container's spec, so a new key recreates it. LIVEKIT_JWT_BIND is
 * left unset: 0.6.0's image healthcheck breaks when it is set.
 */
export default defineRole({
  name: "lk_jwt",
  vars: lkJwtVars,
  secrets: generatedSecrets.livekitKeys,
  secretsOnHost: (vars) => ({
    livekit_api_key: onHost.keyFile(`${vars.matrixrtc_config_dir}/lk-jwt/keys.yaml`, 0),
    livekit_api_secret: onHost.keyFile(`${vars.matrixrtc_config_dir}/lk-jwt/keys.yaml`, 1),
  }),
  tasks: (vars) => {
    const dir = `${vars.matrixrtc_config_dir}/lk-jwt`;
    const keyFile = livekitKeyFile(vars);
    const overrides =
      vars.lk_jwt_cs_api_url_overrides ??
      (vars.homeserver === "synapse" ? { [vars.matrix_server_name]: `http://${containers.synapse}:8008` } : {});
    return [
      directory({ path: dir, mode: 0o700 }),
      file({ path: `${dir}/keys.yaml`, content: keyFile, mode: 0o600 }),
      ...serviceContainer(vars, {
        name: containers.jwt,
        image: vars.lk_jwt_image,
        env: {
          LIVEKIT_URL: livekitUrl(vars),
          LIVEKIT_KEY_FILE: "/etc/lk-jwt/keys.yaml",
          LIVEKIT_FULL_ACCESS_HOMESERVERS: (vars.jwt_full_access_homeservers ?? [vars.matrix_server_name]).join(","),
          LIVEKIT_SANITY_CHECK_INTERVAL_SECONDS: String(vars.lk_jwt_sanity_check_seconds),
          ...(Object.keys(overrides).length
            ? {
                LIVEKIT_CS_API_URL_OVERRIDES: Object.entries(overrides)
                  .map(([name, url]) => `${name}=${url}`)
                  .join(","),
              }
            : {}),
          ...(vars.lk_jwt_insecure_skip_verify_tls
            ? { LIVEKIT_INSECURE_SKIP_VERIFY_TLS: "YES_I_KNOW_WHAT_I_AM_DOING" }
            : {}),
        },
        inputs: [keyFile],
        mounts: [{ source: dir, target: "/etc/lk-jwt", readOnly: true }],
        ports: [{ hostIp: vars.matrixrtc_bind_address, hostPort: vars.lk_jwt_port, containerPort: 8080 }],
        extraHosts: vars.matrixrtc_extra_hosts,
      }),
    ];
  },
  verify: (vars) => {
    const local = `http://${publishedAt(vars, vars.lk_jwt_port)}`;
    return [
      waitFor({ name: "the jwt service is healthy", url: `${local}/healthz`, timeoutSeconds: 30 }),
      check({
        name: "the jwt service refuses an empty request (400 M_BAD_JSON)",
        command: sh`python3 -c ${[
          "import sys, urllib.request, urllib.error",
          "try:",
          `    urllib.request.urlopen(urllib.request.Request('${local}/sfu/get', data=b'{}', method='POST'), timeout=5); sys.exit(1)`,
          "except urllib.error.HTTPError as e:",
          "    body = e.read(); print(e.code, body.decode()); sys.exit(0 if e.code == 400 and b'M_BAD_JSON' in body else 1)",
        ].join("\n")}`,
        failure: "POST /sfu/get with {} did not answer 400 M_BAD_JSON",
      }),
      check({
        name: "the jwt service answers a browser's preflight (CORS, as Element Call on another origin needs)",
        command: `out=$(${sh`curl -s -i -X OPTIONS -H ${`Origin: https://${vars.element_call_host}`} -H ${"Access-Control-Request-Method: POST"} ${`${local}/get_token`}`} | tr -d '\\r') && printf '%s\\n' "$out" | grep -x 'HTTP/1.1 200 OK' && printf '%s\\n' "$out" | grep -ix 'access-control-allow-origin: [*]'`,
        failure:
          "OPTIONS /get_token did not answer 200 with Access-Control-Allow-Origin: *: browsers refuse Element Call's token requests",
      }),
      check({
        name: "its full-access homeservers are named, never *",
        command: `${sh`docker inspect --format '{{range .Config.Env}}{{println .}}{{end}}' ${containers.jwt}`} | grep '^LIVEKIT_FULL_ACCESS_HOMESERVERS=' | grep -v '[*]'`,
        failure:
          "LIVEKIT_FULL_ACCESS_HOMESERVERS is unset or holds *: any Matrix user anywhere could make the SFU create rooms",
      }),
      privateFilesCheck([`${vars.matrixrtc_config_dir}/lk-jwt/keys.yaml`]),
      publishedOnlyCheck(vars, containers.jwt),
    ];
  },
});
