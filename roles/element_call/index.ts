import { containerRestart, defineRole, directory, template, waitFor } from "../../src/rigger.js";
import { containers, jwtServiceUrl, loopbackOnlyCheck, serviceContainer } from "../matrixrtc.js";
import { elementCallVars } from "./vars.js";

/** Element Call, its config.json pointing at the homeserver and the jwt service, on 127.0.0.1:8280. */
export default defineRole({
  name: "element_call",
  vars: elementCallVars,
  tasks: (vars) => {
    const dir = `${vars.matrixrtc_config_dir}/element-call`;
    return [
      directory({ path: dir }),
      template({
        path: `${dir}/config.json`,
        template: new URL("templates/config.json.hbs", import.meta.url),
        vars: { ...vars, baseUrl: `https://${vars.matrix_host}`, jwtUrl: jwtServiceUrl(vars) },
        extra: vars.element_call_config_extra,
        notify: "restart element call",
      }),
      ...serviceContainer(vars, {
        name: containers.elementCall,
        image: vars.element_call_image,
        // The image serves /app/config.json from inside /app, which a directory mount would hide:
        // this one file is mounted, and the container restarted whenever it changes (a restart binds the new file).
        mounts: [{ source: `${dir}/config.json`, target: "/app/config.json", readOnly: true }],
        ports: [{ hostIp: "127.0.0.1", hostPort: 8280, containerPort: 8080 }],
      }),
    ];
  },
  handlers: () => ({ "restart element call": containerRestart(containers.elementCall) }),
  verify: (vars) => [
    waitFor({ name: "element call serves its config", url: "http://127.0.0.1:8280/config.json", body: jwtServiceUrl(vars), timeoutSeconds: 30 }),
    loopbackOnlyCheck(containers.elementCall),
  ],
});
