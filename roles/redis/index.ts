import {
  absent,
  check,
  containerRestart,
  defineRole,
  directory,
  file,
  onHost,
  sh,
  template,
  when,
} from "../../src/rigger.js";
import {
  containers,
  exporterContainer,
  metricsCheck,
  metricsRule,
  derivedWhen,
  generatedSecrets,
  groupAddresses,
  privateFilesCheck,
  serviceContainer,
  unpublishedCheck,
} from "../matrixrtc/index.js";
import { redisVars, type RedisVars } from "./vars.js";

const REDIS_URL = `redis://${containers.redis}:6379`;
const EXPORTER_SECRETS = "/run/secrets/redis-exporter";
const RESTART_EXPORTER = "restart the redis exporter";

/** The exporter with its password in a file (its password file maps the address to the password), never in its environment. */
function exporter(vars: RedisVars) {
  const dir = `${vars.matrixrtc_config_dir}/redis-exporter`;
  const uid = String(vars.redis_exporter_uid);
  const container = exporterContainer(vars, {
    service: "redis",
    port: vars.redis_exporter_port,
    name: containers.redisExporter,
    image: vars.redis_exporter_image,
    user: `${uid}:${uid}`,
    env: { REDIS_ADDR: REDIS_URL, REDIS_PASSWORD_FILE: `${EXPORTER_SECRETS}/passwords.json` },
    mounts: [{ source: dir, target: EXPORTER_SECRETS, readOnly: true }],
  });
  // Turned off: the password's copy goes with the exporter.
  if (!vars.metrics_clients.length) return [...container, absent({ path: dir })];
  return [
    directory({ path: dir, mode: 0o700, owner: uid, group: uid }),
    file({
      path: `${dir}/passwords.json`,
      content: `${JSON.stringify({ [REDIS_URL]: vars.redis_password })}\n`,
      mode: 0o600,
      owner: uid,
      group: uid,
      notify: RESTART_EXPORTER,
    }),
    ...container,
  ];
}

/**
 * Redis for LiveKit's distributed mode, password required: on the services' Docker network, or
 * published to the LiveKit nodes of other hosts only (redis_clients).
 */
export default defineRole({
  name: "redis",
  vars: redisVars,
  secrets: generatedSecrets.redis,
  secretsOnHost: (vars) => ({
    redis_password: onHost.option(`${vars.matrixrtc_config_dir}/redis/redis.conf`, "requirepass"),
  }),
  // The LiveKit nodes of the `sfu` group are its clients.
  derive: (fleet) => derivedWhen(groupAddresses(fleet, "sfu"), (nodes) => ({ redis_clients: nodes })),
  tasks: (vars) => {
    const dir = `${vars.matrixrtc_config_dir}/redis`;
    const uid = String(vars.redis_uid);
    return [
      directory({ path: dir, mode: 0o750, group: uid }),
      template({
        path: `${dir}/redis.conf`,
        template: new URL("templates/redis.conf.hbs", import.meta.url),
        vars,
        mode: 0o600,
        owner: uid,
        group: uid,
        notify: "restart redis",
      }),
      ...serviceContainer(vars, {
        name: containers.redis,
        image: vars.redis_image,
        command: ["redis-server", "/usr/local/etc/redis/redis.conf"],
        mounts: [{ source: dir, target: "/usr/local/etc/redis", readOnly: true }],
        ports: vars.redis_clients.length ? [{ hostPort: 6379, containerPort: 6379 }] : [],
      }),
      ...exporter(vars),
    ];
  },
  handlers: () => ({
    "restart redis": containerRestart(containers.redis),
    [RESTART_EXPORTER]: containerRestart(containers.redisExporter),
  }),
  ports: (vars) => [
    ...when(vars.redis_clients.length, () => ({
      protocol: "tcp" as const,
      port: 6379,
      sources: vars.redis_clients,
      comment: "redis: the livekit nodes",
    })),
    ...when(vars.metrics_clients.length, () => metricsRule(vars, "redis", vars.redis_exporter_port)),
  ],
  verify: (vars) => [
    check({
      name: "redis answers, and only with the password",
      command: `${sh`docker exec ${containers.redis} redis-cli ping`} 2>&1 | grep NOAUTH`,
      timeoutSeconds: 15,
      failure: "redis does not answer, or answers without the password",
    }),
    vars.redis_clients.length
      ? check({
          name: "redis is published to the livekit nodes only",
          command: `nft list chain inet rigger published | grep -F 'proto-dst 6379' | grep -e accept -e drop`,
          failure: "the firewall does not limit the published 6379 to redis_clients",
        })
      : unpublishedCheck(containers.redis, "redis"),
    privateFilesCheck([
      `${vars.matrixrtc_config_dir}/redis/redis.conf`,
      ...(vars.metrics_clients.length ? [`${vars.matrixrtc_config_dir}/redis-exporter/passwords.json`] : []),
    ]),
    // redis_up 1: the exporter reached Redis with the password.
    ...when(vars.metrics_clients.length, () =>
      metricsCheck("the redis exporter", `http://127.0.0.1:${vars.redis_exporter_port}/metrics`, "redis_up 1"),
    ),
  ],
});
