import { cpSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { Masker } from "../../../src/engine/masker.js";
import { preparePlaybook } from "../../../src/engine/prepare.js";
import { loadInventory } from "../../../src/inventory/load.js";
import site from "../../../playbooks/site.js";
import backupPlaybook from "../../../playbooks/backup.js";
import restorePlaybook from "../../../playbooks/restore.js";
import { prepared, rendered, rolesOf } from "./prepared-site.js";

it("the README's deploy command: the bundled inventory and site playbook validate without a warning", () => {
  const inventory = loadInventory("inventory/dev2");
  const { plays, warnings } = preparePlaybook(site, inventory, {
    playbookFile: "playbooks/site.ts",
    extraVars: {},
    masker: new Masker(),
  });
  expect(warnings).toEqual([]);
  // One host, every role of the stack, in the stack's rollout order (docs/matrixrtc.md).
  expect(plays.flatMap((p) => (p.hosts.get("dev2") ?? []).map((r) => r.name))).toEqual([
    "docker",
    "firewall",
    "caddy",
    "kernel",
    "livekit",
    "lk_jwt",
    "backup",
    "postgres",
    "synapse",
    "livekit_webhook",
    "coturn",
    "element_call",
    "call_probe",
  ]);
  expect(plays.find((p) => p.name === "redis")!.hosts.size).toBe(0);
});

it("the fleet example: each host gets its group's roles, Redis and the nodes' API open to the right hosts only", () => {
  const { plays, warnings } = prepared("inventory/fleet");
  expect(warnings).toEqual([]);
  const rolesOf = (host: string) => plays.flatMap((p) => (p.hosts.get(host) ?? []).map((r) => r.name));
  expect(rolesOf("hs1")).toEqual([
    "docker",
    "firewall",
    "caddy",
    "redis",
    "lk_jwt",
    "backup",
    "postgres",
    "synapse",
    "element_call",
    "call_probe",
  ]);
  expect(rolesOf("sfu1")).toEqual(["docker", "firewall", "kernel", "livekit", "livekit_webhook"]);
  expect(rolesOf("turn1")).toEqual(["docker", "firewall", "coturn"]);
  const firewallTask = (host: string) =>
    plays[0]!.hosts
      .get(host)!
      .find((r) => r.name === "firewall")!
      .tasks.find((t) => t.name.startsWith("nftables"))!;
  expect(firewallTask("hs1").name).toBe("nftables table rigger: ssh 80/tcp 443/tcp 6379/tcp");
  expect(firewallTask("sfu2").name).toBe("nftables table rigger: ssh 7880/tcp 7881/tcp 7882/udp");
  expect(plays.find((p) => p.name === "sfu")!.serial).toEqual([1, "50%"]);
});

it("refuses, before any host is touched, a ufw firewall for ports open to some addresses only", () => {
  expect(() => prepared("inventory/fleet", { firewall_backend: "ufw" })).toThrow(
    /hs1: role firewall: firewall_backend ufw cannot open 6379\/tcp to some addresses only \(ufw does not filter ports Docker publishes\): use firewall_backend nftables/,
  );
});

it("wires LiveKit's webhook to the jwt service: on the services' network on one host, through Caddy from an SFU node", () => {
  const one = prepared("inventory/dev2").plays;
  const livekit = rendered(one, "dev2", "/etc/matrixrtc/livekit/livekit.yaml");
  expect(livekit).toMatch(
    /^webhook:\n {2}api_key: "API\w+"\n {2}urls:\n {4}- "http:\/\/matrixrtc-lk-jwt:8080\/sfu_webhook"$/m,
  );
  const fleet = prepared("inventory/fleet").plays;
  expect(rendered(fleet, "sfu1", "/etc/matrixrtc/livekit/livekit.yaml")).toContain(
    '    - "https://matrix.example.org/_livekit/sfu_webhook"\n',
  );
});

it("defaults turn_host to livekit_host on one host, and hands out TLS TURN once coturn has a certificate", () => {
  const plain = prepared("inventory/dev2").plays;
  expect(rendered(plain, "dev2", "/etc/matrixrtc/coturn/turnserver.conf")).toContain("realm=livekit.example.org\n");
  expect(rendered(plain, "dev2", "/etc/matrixrtc/synapse/homeserver.yaml")).toContain(
    'turn_uris: ["turn:livekit.example.org:3478?transport=udp","turn:livekit.example.org:3478?transport=tcp"]',
  );
  const tls = prepared("inventory/dev2", {
    coturn_tls_certificate: "/etc/ssl/turn.pem",
    coturn_tls_key_path: "/etc/ssl/turn.key",
  }).plays;
  expect(rendered(tls, "dev2", "/etc/matrixrtc/synapse/homeserver.yaml")).toContain(
    '"turns:livekit.example.org:5349?transport=tcp"',
  );
  expect(rendered(tls, "dev2", "/etc/matrixrtc/livekit/livekit.yaml")).toMatch(
    /- host: "livekit.example.org"\n {6}port: 5349\n {6}protocol: tls\n/,
  );
  expect(rendered(tls, "dev2", "/etc/matrixrtc/coturn/turnserver.conf")).toContain("tls-listening-port=5349\n");
});

it("serves TURN over TLS on 443 beside Caddy: coturn alone on turn_ip, Caddy on the host's other addresses, clients told port 443", () => {
  const tls = { coturn_tls_certificate: "/etc/ssl/turn.pem", coturn_tls_key_path: "/etc/ssl/turn.key" };
  const { plays } = prepared("inventory/dev2", { ...tls, coturn_tls_port: 443, turn_ip: "203.0.113.11" });
  const coturn = rendered(plays, "dev2", "/etc/matrixrtc/coturn/turnserver.conf");
  expect(coturn).toMatch(/^listening-ip=203\.0\.113\.11\ntls-listening-port=443\n/m);
  expect(rendered(plays, "dev2", "/etc/caddy/Caddyfile")).toMatch(/^\tdefault_bind 203\.0\.113\.10 127\.0\.0\.1$/m);
  expect(rendered(plays, "dev2", "/etc/matrixrtc/livekit/livekit.yaml")).toMatch(/ {6}port: 443\n {6}protocol: tls\n/);
  expect(rendered(plays, "dev2", "/etc/matrixrtc/synapse/homeserver.yaml")).toContain(
    '"turns:livekit.example.org:443?transport=tcp"',
  );
  // Without 443, Caddy listens everywhere, as before.
  expect(rendered(prepared("inventory/dev2", tls).plays, "dev2", "/etc/caddy/Caddyfile")).not.toContain("default_bind");
});

it("refuses TURN over TLS on 443 without an address of its own, or on the address Caddy serves", () => {
  const tls = { coturn_tls_certificate: "/etc/ssl/turn.pem", coturn_tls_key_path: "/etc/ssl/turn.key" };
  expect(() => prepared("inventory/dev2", { ...tls, coturn_tls_port: 443 })).toThrow(
    /turn_ip: is needed with coturn_tls_port 443: the address turn_host resolves to/,
  );
  expect(() => prepared("inventory/dev2", { ...tls, coturn_tls_port: 443, turn_ip: "203.0.113.10" })).toThrow(
    /turn_ip: 203\.0\.113\.10 is an address Caddy serves 443 on \(caddy_bind 203\.0\.113\.10, 127\.0\.0\.1\)/,
  );
  expect(() => prepared("inventory/dev2", { coturn_tls_port: 443, turn_ip: "203.0.113.11" })).toThrow(
    /coturn_tls_port: is for TURN over TLS, which needs coturn_tls_certificate/,
  );
});

it("writes no coturn option that coturn 4.7 removed, and a relay range sized for a real server", () => {
  const conf = rendered(prepared("inventory/dev2").plays, "dev2", "/etc/matrixrtc/coturn/turnserver.conf");
  for (const removed of ["no-tlsv1", "no-tlsv1_1", "no-stun-backward-compatibility"])
    expect(conf).not.toMatch(new RegExp(`^${removed}$`, "m"));
  expect(conf).toContain("min-port=49152\nmax-port=50151\n");
});

it("merges each role's config_extra into its config: mappings deep, the rest replaced, the role's comments kept", () => {
  const { plays } = prepared("inventory/dev2", {
    synapse_config_extra: { enable_registration: true, experimental_features: { msc3266_enabled: true } },
    livekit_config_extra: { rtc: { interfaces: { includes: ["eth0"] } }, room: { max_participants: 50 } },
    element_call_config_extra: {
      livekit: { extra_option: 1 },
      features: { feature_use_device_session_member_events: true },
    },
    coturn_config_extra: ["no-loopback-peers", "max-bps=1000000"],
    caddy_config_extra: "status.example.org {\n\trespond ok\n}",
  });
  const homeserver = rendered(plays, "dev2", "/etc/matrixrtc/synapse/homeserver.yaml");
  expect(homeserver).toMatch(/^# Managed by rigger/);
  expect(homeserver).toContain("enable_registration: true\n");
  expect(homeserver).toMatch(
    /experimental_features:\n {2}msc4143_enabled: true\n {2}msc4222_enabled: true\n {2}msc4354_enabled: true\n {2}msc3266_enabled: true\n/,
  );
  const livekit = rendered(plays, "dev2", "/etc/matrixrtc/livekit/livekit.yaml");
  expect(livekit).toMatch(/rtc:\n {2}tcp_port: 7881\n[\s\S]*\n {2}interfaces:\n {4}includes:\n {6}- eth0\n/);
  expect(livekit).toMatch(/room:\n(?: {2}#.*\n)* {2}auto_create: false\n {2}max_participants: 50\n/);
  const config = JSON.parse(rendered(plays, "dev2", "/etc/matrixrtc/element-call/config.json"));
  expect(config.livekit).toEqual({ livekit_service_url: "https://matrix.example.org/_livekit", extra_option: 1 });
  expect(config.features).toEqual({ feature_use_device_session_member_events: true });
  expect(rendered(plays, "dev2", "/etc/matrixrtc/coturn/turnserver.conf")).toContain(
    "# From coturn_config_extra.\nno-loopback-peers\nmax-bps=1000000\n",
  );
  expect(rendered(plays, "dev2", "/etc/caddy/Caddyfile")).toMatch(
    /# From caddy_config_extra\.\nstatus\.example\.org \{\n\trespond ok\n\}\n$/,
  );
  expect(() => prepared("inventory/dev2", { coturn_config_extra: ["no-loopback-peers\nlistening-port=1"] })).toThrow(
    /coturn_config_extra\.0: expected one coturn option per item/,
  );
});

it("derives the fleet's cross-host lists from the groups: a node's private_ip when set, else its public_ip; adding a node is adding it to sfu", () => {
  const dir = mkdtempSync(join(tmpdir(), "rigger-fleet-"));
  cpSync("inventory/fleet", dir, { recursive: true });
  writeFileSync(
    join(dir, "hosts.yaml"),
    readFileSync(join(dir, "hosts.yaml"), "utf8").replace(
      "        sfu2: { ansible_host: 203.0.113.22, public_ip: 203.0.113.22 }\n",
      "        sfu2: { ansible_host: 203.0.113.22, public_ip: 203.0.113.22, private_ip: 10.0.0.22 }\n        sfu3: { ansible_host: 203.0.113.23, public_ip: 203.0.113.23 }\n",
    ),
  );
  const { plays } = prepared(dir);
  expect(rendered(plays, "hs1", "/etc/caddy/Caddyfile")).toContain(
    "reverse_proxy 203.0.113.21:7880 10.0.0.22:7880 203.0.113.23:7880 {",
  );
  const sfu3 = rendered(plays, "sfu3", "/etc/matrixrtc/livekit/livekit.yaml");
  expect(sfu3).toContain('redis:\n  address: "203.0.113.10:6379"\n');
  expect(sfu3).toContain('    - "https://matrix.example.org/_livekit/sfu_webhook"\n');
  expect(rendered(plays, "turn1", "/etc/matrixrtc/coturn/turnserver.conf")).toContain(
    "allowed-peer-ip=203.0.113.21\nallowed-peer-ip=10.0.0.22\nallowed-peer-ip=203.0.113.23\n",
  );
  const firewall = (host: string) =>
    plays[0]!.hosts
      .get(host)!
      .find((r) => r.name === "firewall")!
      .tasks.find((t) => t.name.startsWith("nftables"))!;
  expect(firewall("sfu3").name).toBe("nftables table rigger: ssh 7880/tcp 7881/tcp 7882/udp");
  // Set by hand, a list wins over the derived one.
  expect(
    rendered(prepared(dir, { caddy_livekit_upstream: ["192.0.2.1:7880"] }).plays, "hs1", "/etc/caddy/Caddyfile"),
  ).toContain("reverse_proxy 192.0.2.1:7880 {");
});

it("puts Synapse on PostgreSQL by default (a database made as Synapse requires, never published), and on SQLite only when asked", () => {
  const plays = prepared("inventory/dev2").plays;
  const homeserver = rendered(plays, "dev2", "/etc/matrixrtc/synapse/homeserver.yaml");
  expect(homeserver).toMatch(
    /database:\n {2}name: psycopg2\n {2}args:\n {4}user: "synapse"\n {4}password: "\w{48}"\n {4}dbname: "synapse"\n {4}host: "matrixrtc-postgres"\n {4}port: 5432\n/,
  );
  expect(homeserver).not.toContain("sqlite3");
  const password = /password: "(\w+)"/.exec(homeserver)![1]!;
  expect(rendered(plays, "dev2", "/etc/matrixrtc/postgres/password")).toBe(password);
  const container = plays
    .flatMap((p) => p.hosts.get("dev2") ?? [])
    .find((r) => r.name === "postgres")!
    .tasks.find((t) => t.name.includes("container matrixrtc-postgres"))!;
  expect(container.name).not.toContain("--publish");
  const sqlite = prepared("inventory/dev2", { synapse_database: "sqlite" }).plays;
  expect(rolesOf(sqlite, "dev2")).not.toContain("postgres");
  expect(rendered(sqlite, "dev2", "/etc/matrixrtc/synapse/homeserver.yaml")).toMatch(
    /database:\n {2}name: sqlite3\n {2}args:\n {4}database: \/data\/homeserver.db\n/,
  );
});

it("sizes Synapse's limit on delayed-event restarts for the callers the jwt service keeps, and closes federation both ways when asked", () => {
  const rateOf = (extra: Record<string, unknown>) =>
    /rc_delayed_event_mgmt:\n {2}per_second: (\d+)\n {2}burst_count: (\d+)\n/
      .exec(rendered(prepared("inventory/dev2", extra).plays, "dev2", "/etc/matrixrtc/synapse/homeserver.yaml"))!
      .slice(1)
      .map(Number);
  // A restart every 8 s per caller, with half again as headroom.
  expect(rateOf({})).toEqual([19, 100]);
  expect(rateOf({ synapse_delayed_event_callers: 400 })).toEqual([75, 400]);
  expect(rateOf({ synapse_delayed_event_callers: 4 })).toEqual([1, 20]);
  const federated = rendered(prepared("inventory/dev2").plays, "dev2", "/etc/matrixrtc/synapse/homeserver.yaml");
  expect(federated).not.toContain("federation_domain_whitelist");
  const closed = rendered(
    prepared("inventory/dev2", { synapse_federation: false }).plays,
    "dev2",
    "/etc/matrixrtc/synapse/homeserver.yaml",
  );
  expect(closed).toContain("federation_domain_whitelist: []\ntrusted_key_servers: []\n");
  expect(closed).toMatch(/- names: \["client","openid"\]/);
});

it("refuses a restore without an archive, or of a file that is not one, before any connection, naming the variable", () => {
  const restore = (extraVars: Record<string, unknown>) => () =>
    preparePlaybook(restorePlaybook, loadInventory("inventory/dev2"), {
      playbookFile: "playbooks/restore.ts",
      extraVars,
      masker: new Masker(),
    });
  expect(restore({})).toThrow(/restore_archive: expected the path of a backup on this machine/);
  expect(restore({ restore_archive: "/etc/passwd" })).toThrow(
    /restore_archive: expected an archive playbooks\/backup.ts made/,
  );
  expect(restore({ restore_archive: "~/matrixrtc-20261130T202314Z.tar.gz" })).toThrow(
    /restore_archive: no such file on this machine/,
  );
});

it("refuses a backup beside an existing homeserver, saying why, before any connection", () => {
  expect(() =>
    preparePlaybook(backupPlaybook, loadInventory("inventory/beside-homeserver"), {
      playbookFile: "playbooks/backup.ts",
      extraVars: {},
      masker: new Masker(),
    }),
  ).toThrow(/homeserver: is existing: rigger runs no homeserver here, so there is nothing of it to back up/);
});

it("says, as Ansible warns, a --limit term that matches no host or group, and limits to the rest", () => {
  const { plays, warnings } = prepared("inventory/fleet", {}, "turn1,sfu9");
  expect([...new Set(plays.flatMap((p) => [...p.hosts.keys()]))]).toEqual(["turn1"]);
  expect(warnings).toContain(
    '--limit turn1,sfu9: "sfu9" matches no host or group of inventory/fleet/hosts.yaml; ignoring it',
  );
});
