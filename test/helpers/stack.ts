/** Inventories that deploy the MatrixRTC stack to test hosts: dev2's shape (one host) and the fleet's. */
import type { SshConnection } from "../../src/connection/ssh.js";
import type { Testbed } from "../testbed/testbed.js";
import { serviceImages } from "../testbed/testbed.js";
import { testInventory } from "./rigger.js";

/**
 * What leaves a test host quiet for the suites after one that deployed the stack: no firewall
 * table, Caddy (and the operator's Prometheus, which writes its data all the time) stopped, Caddy's certificates gone, no container, no config or data (a later suite's
 * fresh inventory would adopt its secrets), and the test ACME root untrusted.
 */
export const TEAR_DOWN_STACK =
  "nft delete table inet rigger 2>/dev/null; systemctl stop caddy 2>/dev/null; systemctl disable --now prometheus 2>/dev/null; rm -rf /var/lib/caddy/.local/share/caddy; docker rm -f $(docker ps -aq) >/dev/null 2>&1; rm -rf /etc/matrixrtc /var/lib/matrixrtc; " +
  "systemctl disable --now matrixrtc-backup.timer 2>/dev/null; rm -rf /var/backups/matrixrtc /usr/local/sbin/matrixrtc-backup; " +
  "rm -f /usr/local/share/ca-certificates/rigger-test-acme.crt; update-ca-certificates --fresh >/dev/null; true";

/** Makes the host trust the ACME server's issuing root as a real server trusts Let's Encrypt's (its probes ask Caddy as clients do). */
export async function trustTestAcme(host: SshConnection, root: string): Promise<void> {
  await host.putFile("/usr/local/share/ca-certificates/rigger-test-acme.crt", root, 0o644);
  const updated = await host.exec("update-ca-certificates");
  if (updated.code !== 0) throw new Error(`update-ca-certificates failed: ${updated.stderr}`);
}

export const NAMES = {
  matrix_server_name: "example.test",
  matrix_host: "matrix.example.test",
  livekit_host: "livekit.example.test",
  element_call_host: "call.example.test",
  turn_host: "turn.example.test",
};

/**
 * Test hosts in inventory groups (public_ip = each host's address), logged in as `deploy` with sudo,
 * Caddy's internal CA, the test images. `resolve` says at which host each name is found: the testbed has no DNS, so every
 * host's containers get those /etc/hosts entries.
 */
function deployment(
  testbed: Testbed,
  groups: Record<string, string[]>,
  resolve: (name: string) => string,
  extra: string[],
): string {
  // A host's address where it first appears; in later groups only its name.
  const declared = new Set<string>();
  const hostLine = (h: string) => {
    if (declared.has(h)) return `        ${h}:`;
    declared.add(h);
    return `        ${h}: { ansible_host: ${ipOf(testbed, h)}, public_ip: ${ipOf(testbed, h)} }`;
  };
  const groupLines = Object.entries(groups).flatMap(([group, members]) => [
    `    ${group}:`,
    "      hosts:",
    ...members.map(hostLine),
  ]);
  return testInventory({
    // As operators log in (every example inventory): a user with sudo, never root.
    "hosts.yaml": [
      "all:",
      "  vars:",
      "    ansible_user: deploy",
      "    ansible_become: true",
      `    ansible_ssh_private_key_file: ${testbed.keyFile}`,
      `    rigger_known_hosts_file: ${testbed.knownHostsFile}`,
      "  children:",
      ...groupLines,
      "",
    ].join("\n"),
    "group_vars/all.yaml": testbedVars(testbed, resolve, [
      ...Object.entries(NAMES).map(([k, v]) => `${k}: ${v}`),
      ...extra,
    ]),
  });
}

const ipOf = (testbed: Testbed, name: string) => testbed.hosts.find((h) => h.name === name)!.ip;

/** What every test deployment sets: Caddy's internal CA, the local registry's images, where each name resolves. A line of `given` replaces the default of its name. */
function testbedVars(testbed: Testbed, resolve: (name: string) => string, given: string[]): string {
  const extraHosts = `matrixrtc_extra_hosts: { ${Object.values(NAMES)
    .map((n) => `${n}: ${ipOf(testbed, resolve(n))}`)
    .join(", ")} }`;
  const defaults = [
    "caddy_tls: internal",
    "lk_jwt_insecure_skip_verify_tls: true",
    'docker_daemon_options: { insecure-registries: ["172.30.0.1:5000"] }',
    "firewall_rollback_seconds: 15",
  ];
  const names = new Set(given.map((line) => /^(\w+):/.exec(line)?.[1]).filter(Boolean));
  return [
    ...defaults.filter((line) => !names.has(/^(\w+):/.exec(line)![1])),
    serviceImages(),
    ...given,
    extraHosts,
  ].join("\n");
}

/**
 * One host as matrix-docker-ansible-deploy's own example sets it up: `inventory/hosts` with the host
 * in `[matrix_servers]` on its INI line, `host_vars/<host>/vars.yml` in MDAD's names; the testbed's
 * own settings in group_vars.
 */
export function mdadStackInventory(testbed: Testbed, host: string): string {
  const ip = ipOf(testbed, host);
  return testInventory({
    hosts: `[matrix_servers]\n${host} ansible_host=${ip} ansible_ssh_user=deploy ansible_become=true ansible_become_user=root\n`,
    [`host_vars/${host}/vars.yml`]: [
      "---",
      `matrix_domain: ${NAMES.matrix_server_name}`,
      "matrix_homeserver_implementation: synapse",
      "matrix_playbook_reverse_proxy_type: playbook-managed-traefik",
      "postgres_connection_password: ''",
      "matrix_element_call_enabled: true",
      `matrix_element_call_hostname: ${NAMES.element_call_host}`,
      "",
    ].join("\n"),
    "group_vars/all.yaml": testbedVars(testbed, () => host, [
      `ansible_ssh_private_key_file: ${testbed.keyFile}`,
      `rigger_known_hosts_file: ${testbed.knownHostsFile}`,
      `turn_host: ${NAMES.turn_host}`,
    ]),
  });
}

/** One host in `matrixrtc` running everything (the names resolve to it). */
export function stackInventory(testbed: Testbed, host: string, extra = ""): string {
  return deployment(testbed, { matrixrtc: [host] }, () => host, [extra]);
}

export interface FleetHosts {
  /** Caddy, Synapse, the jwt service, Element Call and Redis. */
  homeserver: string;
  sfu: string[];
  turn: string;
}

/**
 * inventory/fleet's shape: LiveKit nodes sharing the homeserver host's Redis, behind its Caddy; TURN
 * on its own host. The cross-host lists (Redis's clients, Caddy's upstreams, the nodes' API clients
 * and Redis address, coturn's allowed peers) are left to the roles to derive from the groups.
 */
export function fleetInventory(testbed: Testbed, fleet: FleetHosts, extra: string[] = []): string {
  return deployment(
    testbed,
    {
      proxy: [fleet.homeserver],
      homeserver: [fleet.homeserver],
      redis: [fleet.homeserver],
      sfu: fleet.sfu,
      turn: [fleet.turn],
    },
    (name) => (name === NAMES.turn_host ? fleet.turn : fleet.homeserver),
    extra,
  );
}
