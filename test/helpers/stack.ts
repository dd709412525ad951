/** An inventory that deploys the MatrixRTC stack to test hosts, shaped like inventory/dev2. */
import type { Testbed } from "../testbed/testbed.js";
import { serviceImages } from "../testbed/testbed.js";
import { testInventory } from "./rigger.js";

export const NAMES = {
  matrix_server_name: "example.test",
  matrix_host: "matrix.example.test",
  livekit_host: "livekit.example.test",
  element_call_host: "call.example.test",
  turn_host: "turn.example.test",
};

/** Every host in `matrixrtc`, each its own deployment (public_ip = its address), Caddy's internal CA. */
export function stackInventory(testbed: Testbed, hosts: string[], extra = ""): string {
  const ip = (name: string) => testbed.hosts.find((h) => h.name === name)!.ip;
  const hostLines = hosts.map((h) => `        ${h}: { ansible_host: ${ip(h)}, public_ip: ${ip(h)} }`).join("\n");
  return testInventory({
    "hosts.yaml": [
      "all:",
      "  vars:",
      "    ansible_user: root",
      `    ansible_ssh_private_key_file: ${testbed.keyFile}`,
      `    rigger_known_hosts_file: ${testbed.knownHostsFile}`,
      "  children:",
      "    matrixrtc:",
      "      hosts:",
      hostLines,
      "",
    ].join("\n"),
    "group_vars/all.yaml": [
      ...Object.entries(NAMES).map(([k, v]) => `${k}: ${v}`),
      "caddy_tls: internal",
      "lk_jwt_insecure_skip_verify_tls: true",
      'docker_daemon_options: { insecure-registries: ["172.30.0.1:5000"] }',
      "firewall_rollback_seconds: 15",
      serviceImages(),
      extra,
    ].join("\n"),
    // The names resolve to each host inside its own containers (no DNS in the testbed).
    ...Object.fromEntries(
      hosts.map((h) => [`host_vars/${h}.yaml`, `matrixrtc_extra_hosts: { ${Object.values(NAMES).map((n) => `${n}: ${ip(h)}`).join(", ")} }\n`]),
    ),
  });
}
