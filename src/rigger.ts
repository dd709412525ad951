/**
 * Everything a role or a playbook needs, in one import: `import { defineRole, file, ... } from "../../src/rigger.js"`.
 * Roles and playbooks use this module only, never the engine's files one by one.
 */
export {
  definePlaybook,
  defineRole,
  use,
  type Fleet,
  type HostContext,
  type Play,
  type Playbook,
  type Role,
} from "./engine/playbook.js";
export type { PortRule } from "./common/ports.js";
export { portText } from "./common/ports.js";
export { quote, raw, sh } from "./common/shell.js";
export { generate } from "./common/generate.js";
export { when } from "./common/when.js";
export { onHost, type SecretOnHost } from "./engine/secret-on-host.js";
export {
  flushHandlers,
  operation,
  type Chart,
  type HostAccess,
  type Observation,
  type Operation,
  type Step,
  type TaskOptions,
} from "./ops/operation.js";
export { ownAddresses } from "./ops/addresses.js";
export { apt } from "./ops/apt.js";
export { check, localCheck } from "./ops/check.js";
export { command } from "./ops/command.js";
export {
  containerDrainRestart,
  containerRestart,
  dockerContainer,
  dockerContainerAbsent,
  dockerImage,
  dockerNetwork,
} from "./ops/docker.js";
export type { ContainerSpec, Mount, PortMapping } from "./ops/docker-spec.js";
export { absent, directory, file, upload } from "./ops/files.js";
export { nftablesFirewall, nftablesRulesetPath } from "./ops/nftables.js";
export { sysctl } from "./ops/sysctl.js";
export { service, serviceAction, unitFile } from "./ops/systemd.js";
export { render, template } from "./ops/template.js";
export { ufwFirewall } from "./ops/ufw.js";
export { SSH_SERVED_PORT_SHELL } from "./facts/ssh-port.js";
export { waitFor } from "./ops/wait-for.js";
