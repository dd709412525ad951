import { check, containerRestart, defineRole, directory, sh, template } from "../../src/rigger.js";
import { containers, generatedSecrets, privateFilesCheck, serviceContainer } from "../matrixrtc.js";
import { redisVars } from "./vars.js";

/** Redis for LiveKit's distributed mode: on the services' Docker network, never published, password required. */
export default defineRole({
  name: "redis",
  vars: redisVars,
  secrets: generatedSecrets.redis,
  tasks: (vars) => {
    const dir = `${vars.matrixrtc_config_dir}/redis`;
    const uid = String(vars.redis_uid);
    return [
      directory({ path: dir, mode: 0o750, group: uid }),
      template({ path: `${dir}/redis.conf`, template: new URL("templates/redis.conf.hbs", import.meta.url), vars, mode: 0o600, owner: uid, group: uid, notify: "restart redis" }),
      ...serviceContainer(vars, {
        name: containers.redis,
        image: vars.redis_image,
        command: ["redis-server", "/usr/local/etc/redis/redis.conf"],
        mounts: [{ source: dir, target: "/usr/local/etc/redis", readOnly: true }],
      }),
    ];
  },
  handlers: () => ({ "restart redis": containerRestart(containers.redis) }),
  verify: (vars) => [
    check({
      name: "redis answers, and only with the password",
      command: `${sh`docker exec ${containers.redis} redis-cli ping`} 2>&1 | grep NOAUTH`,
      timeoutSeconds: 15,
      failure: "redis does not answer, or answers without the password",
    }),
    check({
      name: "redis publishes no port",
      command: `[ -z "$(${sh`docker port ${containers.redis}`})" ] && echo 'docker port: nothing published'`,
      failure: `${containers.redis} publishes a port: Redis must stay on the Docker network`,
    }),
    privateFilesCheck([`${vars.matrixrtc_config_dir}/redis/redis.conf`]),
  ],
});
