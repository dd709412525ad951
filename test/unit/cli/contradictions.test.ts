/**
 * Values that contradict the MatrixRTC stack are refused before any host is touched: exit 1, an
 * error naming the file, the variable and the fix, and not one connection attempt.
 */
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { countingListener, type CountingListener } from "../../helpers/listener.js";
import { dev2AtPort, rigger } from "../../helpers/rigger.js";

let listener: CountingListener;
beforeAll(async () => (listener = await countingListener()));
afterAll(() => listener.close());

/** inventory/dev2 with its host pointed at the counting listener, plus one file of contradicting vars. */
async function run(contradiction: string) {
  const dir = dev2AtPort(listener.port, `${contradiction}\n`);
  const { code, err } = await rigger("playbooks/site.ts", "-i", dir);
  return { code, err, file: join(dir, "group_vars", "matrixrtc.yaml"), dir };
}

const cases: Array<[string, string, string, RegExp]> = [
  [
    "both UDP modes",
    "livekit_udp_port: 7882\nlivekit_udp_range: [50000, 50100]",
    "livekit_udp_range",
    /set livekit_udp_port or livekit_udp_range, not both/,
  ],
  ["a full-access homeserver of *", 'jwt_full_access_homeservers: ["*"]', "jwt_full_access_homeservers.0", /never \*/],
  [
    "msc4143 without transports",
    "synapse_rtc_transports: []",
    "synapse_rtc_transports",
    /Synapse would answer \{\} and Element Call finds no SFU/,
  ],
  [
    "MSC4143 off while Element Call is deployed",
    "synapse_msc4143_enabled: false",
    "synapse_msc4143_enabled",
    /must be true while Element Call is deployed: Element Call 0\.24 .*MSC4143/,
  ],
  [
    "federation delegation off with no 8448 or SRV",
    "caddy_federation_delegated: false",
    "caddy_federation_delegated",
    /every token request fails \(401\).*caddy_federation_srv: true/,
  ],
  [
    "a LiveKit secret the jwt service cannot read",
    'livekit_api_secret: "short\'n $weet:0123456789abcdefghijklmnopqrstuvwxyz"',
    "livekit_api_secret",
    /letters and digits only: the jwt service reads its key file as key:secret/,
  ],
  [
    "overlapping UDP ranges",
    "livekit_udp_range: [49000, 49200]",
    "livekit_udp_range",
    /LiveKit's UDP 49000-49200 overlaps coturn's relay range 49152-50151/,
  ],
  [
    "a hand-given secret under 32 characters",
    'turn_shared_secret: "short\'n $weet"',
    "turn_shared_secret",
    /at least 32 characters/,
  ],
  [
    "a hostname that is not a hostname",
    "livekit_host: https://livekit.example.org/",
    "livekit_host",
    /expected a DNS name/,
  ],
  ["room.auto_create true", "livekit_auto_create: true", "livekit_auto_create", /must be false/],
  [
    "room.auto_create true through the escape hatch",
    "livekit_config_extra: { room: { auto_create: true } }",
    "livekit_config_extra.room.auto_create",
    /must stay false/,
  ],
  [
    "MSC4143 off through the escape hatch",
    "synapse_config_extra: { experimental_features: { msc4143_enabled: false } }",
    "synapse_config_extra.experimental_features.msc4143_enabled",
    /must stay true/,
  ],
];

for (const [what, vars, key, message] of cases) {
  it(`refuses ${what} before connecting`, async () => {
    const before = listener.connects();
    const result = await run(vars);
    expect(result.code).toBe(1);
    expect(result.err).toMatch(/^rigger: configuration error: /);
    expect(result.err).toContain(`${result.file}: dev2: ${key}: `);
    expect(result.err).toMatch(message);
    expect(result.err).not.toContain("short'n $weet");
    expect(listener.connects()).toBe(before);
    // Nothing was generated or kept for a run that never started.
    expect(existsSync(join(result.dir, "secrets.yaml"))).toBe(false);
  });
}

it("says every variable a newcomer's inventory lacks in one run, each with the file it belongs in and an example", async () => {
  const dir = dev2AtPort(listener.port);
  writeFileSync(join(dir, "group_vars", "all.yaml"), "caddy_tls: internal\n");
  const before = listener.connects();
  const { code, err } = await rigger("playbooks/site.ts", "-i", dir);
  expect(code).toBe(1);
  expect(err).toMatch(/^rigger: configuration error: 4 variables refused:\n/);
  for (const [name, example] of [
    ["matrix_server_name", "example.org"],
    ["matrix_host", "matrix.example.org"],
    ["livekit_host", "livekit.example.org"],
    ["element_call_host", "call.example.org"],
  ])
    expect(err).toMatch(
      new RegExp(
        `^  ${join(dir, "group_vars", "all.yaml")}: dev2: ${name}: required, and set nowhere: expected string, such as "${example}" \\(roles? [a-z_, ]+\\)$`,
        "m",
      ),
    );
  expect(listener.connects()).toBe(before);
});

it("checks the private key file before any connection, naming it (never an unreachable host)", async () => {
  const before = listener.connects();
  const missing = join(dev2AtPort(listener.port), "no-such-key");
  for (const args of [
    ["--private-key", missing],
    ["-e", `ansible_ssh_private_key_file=${missing}`],
  ]) {
    const { code, err } = await rigger("playbooks/site.ts", "-i", dev2AtPort(listener.port), ...args);
    expect(code).toBe(1);
    expect(err).toContain(
      `dev2.ansible_ssh_private_key_file: ${missing}: cannot be read (ENOENT): the private key to log in with`,
    );
  }
  expect(listener.connects()).toBe(before);
});

it("reads Ansible's extra ssh arguments, and refuses one it cannot honour before any connection, saying what to do instead", async () => {
  const before = listener.connects();
  const inventory = dev2AtPort(listener.port);
  const refused = await rigger(
    "playbooks/site.ts",
    "-i",
    inventory,
    "--ssh-common-args",
    "-C -o ControlMaster=auto -o StrictHostKeyChecking=no",
  );
  expect(refused.code).toBe(1);
  expect(refused.err).toContain(
    "--ssh-common-args or -e: dev2.ansible_ssh_common_args: -o stricthostkeychecking: rigger checks every host key against known_hosts; --accept-new-host-keys records",
  );
  const command = await rigger(
    "playbooks/site.ts",
    "-i",
    inventory,
    "-e",
    "ansible_ssh_common_args='-o ProxyCommand=\"nc %h %p\"'",
  );
  expect(command.err).toContain(
    "-o proxycommand: rigger speaks SSH itself and runs no command to reach a host: use ProxyJump (-J)",
  );
  expect(listener.connects()).toBe(before);
});

it("checks the known_hosts file before any connection: one that is there but cannot be read is named", async () => {
  const before = listener.connects();
  const inventory = dev2AtPort(listener.port);
  const folder = join(inventory, ".known_hosts.d");
  mkdirSync(folder);
  const { code, err } = await rigger("playbooks/site.ts", "-i", inventory, "-e", `rigger_known_hosts_file=${folder}`);
  expect(code).toBe(1);
  expect(err).toContain(
    `extra vars: dev2.rigger_known_hosts_file: ${folder}: not a file: where the hosts' keys are checked`,
  );
  expect(listener.connects()).toBe(before);
});
