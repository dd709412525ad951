import { check, containerRestart, defineRole, directory, file, generate, sh, template, waitFor } from "../../src/rigger.js";
import { containers, generatedSecrets, jwtServiceUrl, turnHost, loopbackOnlyCheck, privateFilesCheck, serviceContainer } from "../matrixrtc.js";
import { synapseVars, type SynapseVars } from "./vars.js";

const VERSIONS = "http://127.0.0.1:8008/_matrix/client/versions";
const TRANSPORTS = "http://127.0.0.1:8008/_matrix/client/unstable/org.matrix.msc4143/rtc/transports";

/** What /_matrix/client/versions must advertise: delayed events and sticky events (MSC4143 is not listed there; its endpoint is). */
export const expectedFeatures = ["org.matrix.msc4140", "org.matrix.msc4354"];

/** TURN for 1:1 calls: UDP and TCP on 3478, and TLS on 5349 when coturn has a certificate. */
const turnUris = (vars: SynapseVars) => {
  const host = turnHost(vars);
  return [`turn:${host}:3478?transport=udp`, `turn:${host}:3478?transport=tcp`, ...(vars.coturn_tls_certificate ? [`turns:${host}:5349?transport=tcp`] : [])];
};

/** Synapse with the MSCs Element Call needs, its secrets in files only its user reads; restarted when any of them changes. */
export default defineRole({
  name: "synapse",
  vars: synapseVars,
  secrets: {
    ...generatedSecrets.synapseRegistration,
    synapse_macaroon_secret_key: generate.token(48),
    synapse_form_secret: generate.token(48),
    synapse_signing_key: generate.ed25519SigningKey(),
    ...generatedSecrets.turn,
  },
  tasks: (vars) => {
    const dir = `${vars.matrixrtc_config_dir}/synapse`;
    const uid = String(vars.synapse_uid);
    const owned = { owner: uid, group: uid, mode: 0o600, notify: "restart synapse" };
    return [
      directory({ path: dir, mode: 0o750, group: uid }),
      directory({ path: vars.synapse_data_dir, mode: 0o750, owner: uid, group: uid }),
      template({
        path: `${dir}/homeserver.yaml`,
        template: new URL("templates/homeserver.yaml.hbs", import.meta.url),
        vars: {
          ...vars,
          publicBaseurl: `https://${vars.matrix_host}/`,
          // Without federation the jwt service still validates users through the openid resource.
          resources: vars.synapse_federation ? ["client", "federation"] : ["client", "openid"],
          transports: vars.synapse_rtc_transports ?? [{ type: "livekit", livekit_service_url: jwtServiceUrl(vars) }],
          turnUris: turnUris(vars),
        },
        extra: vars.synapse_config_extra,
        ...owned,
      }),
      file({ path: `${dir}/signing.key`, content: `${vars.synapse_signing_key}\n`, ...owned }),
      file({ path: `${dir}/turn_shared_secret`, content: vars.turn_shared_secret, ...owned }),
      ...serviceContainer(vars, {
        name: containers.synapse,
        image: vars.synapse_image,
        env: { SYNAPSE_CONFIG_PATH: "/config/homeserver.yaml", UID: uid, GID: uid },
        mounts: [
          { source: dir, target: "/config", readOnly: true },
          { source: vars.synapse_data_dir, target: "/data" },
        ],
        ports: [{ hostIp: "127.0.0.1", hostPort: 8008, containerPort: 8008 }],
        extraHosts: vars.matrixrtc_extra_hosts,
      }),
    ];
  },
  handlers: () => ({ "restart synapse": containerRestart(containers.synapse) }),
  verify: (vars) => {
    const features = expectedFeatures;
    const script = `import json, sys, urllib.request\nf = json.load(urllib.request.urlopen(${JSON.stringify(VERSIONS)}, timeout=5))["unstable_features"]\nprint("unstable_features on:", ", ".join(sorted(k for k in f if f[k])))\nsys.exit(0 if all(f.get(k) for k in ${JSON.stringify(features)}) else 1)`;
    return [
      waitFor({ name: "synapse answers", url: VERSIONS, timeoutSeconds: 60 }),
      check({ name: `synapse advertises ${features.join(", ")}`, command: sh`python3 -c ${script}`, failure: `/_matrix/client/versions lacks one of ${features.join(", ")}` }),
      check({
        name: "synapse serves the MSC4143 transports (to signed-in users)",
        command: `${sh`curl -s -w ' %{http_code}' ${TRANSPORTS}`} | grep -E 'M_MISSING_TOKEN.* 401$'`,
        failure: "the MSC4143 transports endpoint is not served (404): Element Call would find no SFU",
      }),
      privateFilesCheck(["homeserver.yaml", "signing.key", "turn_shared_secret"].map((f) => `${vars.matrixrtc_config_dir}/synapse/${f}`)),
      loopbackOnlyCheck(containers.synapse),
    ];
  },
});
