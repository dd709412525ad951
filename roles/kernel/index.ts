import { check, defineRole, sysctl } from "../../src/rigger.js";
import { kernelVars } from "./vars.js";

const KEYS = { rmem: "net.core.rmem_max", wmem: "net.core.wmem_max" } as const;

/** Socket buffers large enough for media (UDP) traffic, persisted and applied. */
export default defineRole({
  name: "kernel",
  vars: kernelVars,
  tasks: (vars) => [
    sysctl({ key: KEYS.rmem, value: vars.kernel_rmem_max, apply: vars.kernel_apply, notify: vars.kernel_notify }),
    sysctl({ key: KEYS.wmem, value: vars.kernel_wmem_max, apply: vars.kernel_apply, notify: vars.kernel_notify }),
  ],
  verify: (vars) => [
    check({
      name: "socket buffers are large enough",
      // In a container the live values are the host's business; the persisted ones must be right.
      command:
        `grep -qx '${KEYS.rmem} = ${vars.kernel_rmem_max}' /etc/sysctl.d/90-rigger-${KEYS.rmem}.conf && ` +
        `grep -qx '${KEYS.wmem} = ${vars.kernel_wmem_max}' /etc/sysctl.d/90-rigger-${KEYS.wmem}.conf && ` +
        `{ ${vars.kernel_apply === "unless-container" ? "systemd-detect-virt --container >/dev/null ||" : ""} ` +
        `{ [ "$(sysctl -n ${KEYS.rmem})" -ge ${vars.kernel_rmem_max} ] && [ "$(sysctl -n ${KEYS.wmem})" -ge ${vars.kernel_wmem_max} ]; }; } && ` +
        `echo "persisted: $(cat /etc/sysctl.d/90-rigger-${KEYS.rmem}.conf /etc/sysctl.d/90-rigger-${KEYS.wmem}.conf | tr '\\n' ' ')live: ${KEYS.rmem} = $(sysctl -n ${KEYS.rmem}), ${KEYS.wmem} = $(sysctl -n ${KEYS.wmem})"`,
      failure: `${KEYS.rmem} / ${KEYS.wmem} are below ${vars.kernel_rmem_max} / ${vars.kernel_wmem_max}`,
    }),
  ],
});
