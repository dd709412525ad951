import { definePlaybook } from "../src/rigger.js";
import docker from "../roles/docker/index.js";
import firewall from "../roles/firewall/index.js";
import kernel from "../roles/kernel/index.js";

/**
 * The MatrixRTC backend, in rollout order. Today: the host layer (Docker, socket buffers, the
 * firewall, which opens what the roles before it declare); the services follow as their roles land.
 */
export default definePlaybook([{ name: "MatrixRTC host layer", hosts: "all", roles: [docker, kernel, firewall] }]);
