import { check, defineRole, directory, file, sh, waitFor } from "../../src/rigger.js";
import { containers, generatedSecrets, livekitKeyFile, livekitUrl, loopbackOnlyCheck, privateFilesCheck, serviceContainer } from "../matrixrtc.js";
import { lkJwtVars } from "./vars.js";

/**
 * lk-jwt-service: Matrix OpenID -> LiveKit tokens, on 127.0.0.1:8380 behind Caddy's /_livekit/.
 * The key reaches it as a file (LIVEKIT_KEY_FILE), never through its environment or argv; the
 * file's content is part of the container's spec, so a new key recreates it. LIVEKIT_JWT_BIND is
 * left unset: 0.6.0's image healthcheck breaks when it is set.
 */
export default defineRole({
  name: "lk_jwt",
  vars: lkJwtVars,
  secrets: generatedSecrets.livekitKeys,
  tasks: (vars) => {
    const dir = `${vars.matrixrtc_config_dir}/lk-jwt`;
    const keyFile = livekitKeyFile(vars);
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
          ...(vars.lk_jwt_insecure_skip_verify_tls ? { LIVEKIT_INSECURE_SKIP_VERIFY_TLS: "YES_I_KNOW_WHAT_I_AM_DOING" } : {}),
        },
        inputs: [keyFile],
        mounts: [{ source: dir, target: "/etc/lk-jwt", readOnly: true }],
        ports: [{ hostIp: "127.0.0.1", hostPort: 8380, containerPort: 8080 }],
        extraHosts: vars.matrixrtc_extra_hosts,
      }),
    ];
  },
  verify: (vars) => [
    waitFor({ name: "the jwt service is healthy", url: "http://127.0.0.1:8380/healthz", timeoutSeconds: 30 }),
    check({
      name: "the jwt service refuses an empty request (400 M_BAD_JSON)",
      command: sh`python3 -c ${[
        "import sys, urllib.request, urllib.error",
        "try:",
        "    urllib.request.urlopen(urllib.request.Request('http://127.0.0.1:8380/sfu/get', data=b'{}', method='POST'), timeout=5); sys.exit(1)",
        "except urllib.error.HTTPError as e:",
        "    body = e.read(); print(e.code, body.decode()); sys.exit(0 if e.code == 400 and b'M_BAD_JSON' in body else 1)",
      ].join("\n")}`,
      failure: "POST /sfu/get with {} did not answer 400 M_BAD_JSON",
    }),
    check({
      name: "its full-access homeservers are named, never *",
      command: `${sh`docker inspect --format '{{range .Config.Env}}{{println .}}{{end}}' ${containers.jwt}`} | grep '^LIVEKIT_FULL_ACCESS_HOMESERVERS=' | grep -v '[*]'`,
      failure: "LIVEKIT_FULL_ACCESS_HOMESERVERS is unset or holds *: any Matrix user anywhere could make the SFU create rooms",
    }),
    privateFilesCheck([`${vars.matrixrtc_config_dir}/lk-jwt/keys.yaml`]),
    loopbackOnlyCheck(containers.jwt),
  ],
});
