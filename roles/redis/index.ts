import { check, containerRestart, defineRole, directory, onHost, sh, template } from "../../src/rigger.js";
import {
  containers,
  derivedWhen,
  generatedSecrets,
  groupAddresses,
  privateFilesCheck,
  serviceContainer,
  unpublishedCheck,
} from "../matrixrtc/index.js";
import { redisVars } from "./vars.js";

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
    ];
  },
  handlers: () => ({ "restart redis": containerRestart(containers.redis) }),
  ports: (vars) =>
    vars.redis_clients.length
      ? [{ protocol: "tcp", port: 6379, sources: vars.redis_clients, comment: "redis: the livekit nodes" }]
      : [],
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
    privateFilesCheck([`${vars.matrixrtc_config_dir}/redis/redis.conf`]),
  ],
});
