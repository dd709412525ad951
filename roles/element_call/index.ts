import { containerRestart, defineRole, directory, template, waitFor } from "../../src/rigger.js";
import {
  containers,
  jwtServiceUrl,
  publishedAt,
  publishedOnlyCheck,
  serviceContainer,
  serviceRemoval,
} from "../matrixrtc/index.js";
import { elementCallVars } from "./vars.js";

/** Element Call, its config.json pointing at the homeserver and the jwt service, on 127.0.0.1:8280 (element_call_port); `element_call_enabled: false` leaves it out. */
export default defineRole({
  name: "element_call",
  vars: elementCallVars,
  enabled: (vars) => vars.element_call_enabled,
  removal: (vars) => serviceRemoval(containers.elementCall, `${vars.matrixrtc_config_dir}/element-call`),
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
        ports: [{ hostIp: vars.matrixrtc_bind_address, hostPort: vars.element_call_port, containerPort: 8080 }],
      }),
    ];
  },
  handlers: () => ({ "restart element call": containerRestart(containers.elementCall) }),
  verify: (vars) => [
    waitFor({
      name: "element call serves its config",
      url: `http://${publishedAt(vars, vars.element_call_port)}/config.json`,
      body: jwtServiceUrl(vars),
      timeoutSeconds: 30,
    }),
    publishedOnlyCheck(vars, containers.elementCall),
  ],
});
