import {
  containerRestart,
  defineRole,
  directory,
  file,
  generate,
  onHost,
  template,
  waitFor,
  when,
} from "../../src/rigger.js";
import {
  backupBeforeUpgrade,
  containers,
  generatedSecrets,
  METRICS,
  metricsCheck,
  metricsRule,
  SYNAPSE_DB,
  privateFilesCheck,
  rtcFoci,
  publishedAt,
  publishedOnlyCheck,
  serviceContainer,
  turnHost,
  turnTlsOn,
} from "../matrixrtc/index.js";
import { clientApiChecks } from "./client-api.js";
import { synapseVars, type SynapseVars } from "./vars.js";

/** TURN for 1:1 calls: UDP and TCP on 3478, and TLS on coturn_tls_port when coturn has a certificate. */
const turnUris = (vars: SynapseVars) => {
  const host = turnHost(vars);
  return [
    `turn:${host}:3478?transport=udp`,
    `turn:${host}:3478?transport=tcp`,
    ...when(turnTlsOn(vars), () => `turns:${host}:${vars.coturn_tls_port}?transport=tcp`),
  ];
};

/**
 * rc_delayed_event_mgmt for this many callers: a restart every 8 s each (Element Call's 10 s delay,
 * restarted at 80 %), with half again as headroom; a burst of one restart per caller.
 */
const delayedEventMgmt = (callers: number) => ({
  perSecond: Math.max(1, Math.ceil((callers / 8) * 1.5)),
  burst: Math.max(20, callers),
});

/** Synapse with the MSCs Element Call needs, its secrets in files only its user reads; restarted when any of them changes. */
export default defineRole({
  name: "synapse",
  vars: synapseVars,
  enabled: (vars) => vars.homeserver === "synapse",
  secrets: {
    ...generatedSecrets.synapseRegistration,
    synapse_macaroon_secret_key: generate.token(48),
    synapse_form_secret: generate.token(48),
    ...generatedSecrets.signingKey,
    ...generatedSecrets.turn,
    ...generatedSecrets.postgres,
  },
  secretsOnHost: (vars) => {
    const dir = `${vars.matrixrtc_config_dir}/synapse`;
    const config = (key: string) => onHost.yaml(`${dir}/homeserver.yaml`, key);
    return {
      synapse_registration_shared_secret: config("registration_shared_secret"),
      synapse_macaroon_secret_key: config("macaroon_secret_key"),
      synapse_form_secret: config("form_secret"),
      synapse_signing_key: onHost.file(`${dir}/signing.key`),
      turn_shared_secret: onHost.file(`${dir}/turn_shared_secret`),
    };
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
          transports: vars.synapse_rtc_transports ?? rtcFoci(vars),
          rtcFoci: rtcFoci(vars),
          turnUris: turnUris(vars),
          delayedEventMgmt: delayedEventMgmt(vars.synapse_delayed_event_callers),
          metricsPort: METRICS.synapse.port,
          postgres: vars.synapse_database === "postgres" ? { ...SYNAPSE_DB, host: containers.postgres } : undefined,
        },
        extra: vars.synapse_config_extra,
        ...owned,
      }),
      file({ path: `${dir}/signing.key`, content: `${vars.synapse_signing_key}\n`, ...owned }),
      file({ path: `${dir}/turn_shared_secret`, content: vars.turn_shared_secret, ...owned }),
      ...serviceContainer(vars, {
        name: containers.synapse,
        image: vars.synapse_image,
        beforeUpgrade: backupBeforeUpgrade(vars),
        env: { SYNAPSE_CONFIG_PATH: "/config/homeserver.yaml", UID: uid, GID: uid },
        mounts: [
          { source: dir, target: "/config", readOnly: true },
          { source: vars.synapse_data_dir, target: "/data" },
        ],
        ports: [
          { hostIp: vars.matrixrtc_bind_address, hostPort: vars.synapse_port, containerPort: 8008 },
          ...when(vars.metrics_clients.length, () => ({
            hostPort: vars.synapse_metrics_port,
            containerPort: METRICS.synapse.port,
          })),
        ],
        extraHosts: vars.matrixrtc_extra_hosts,
      }),
    ];
  },
  handlers: () => ({ "restart synapse": containerRestart(containers.synapse) }),
  ports: (vars) => [
    ...when(vars.metrics_clients.length, () => metricsRule(vars, "synapse", vars.synapse_metrics_port)),
  ],
  verify: (vars) => {
    const local = `http://${publishedAt(vars, vars.synapse_port)}`;
    return [
      waitFor({ name: "synapse answers", url: `${local}/_matrix/client/versions`, timeoutSeconds: 60 }),
      ...clientApiChecks("synapse", local),
      privateFilesCheck(
        ["homeserver.yaml", "signing.key", "turn_shared_secret"].map(
          (f) => `${vars.matrixrtc_config_dir}/synapse/${f}`,
        ),
      ),
      publishedOnlyCheck(vars, containers.synapse, "8008/tcp"),
      ...when(vars.metrics_clients.length, () =>
        metricsCheck("synapse", `http://127.0.0.1:${vars.synapse_metrics_port}${METRICS.synapse.path}`, "synapse_"),
      ),
    ];
  },
});
