import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { stringify } from "yaml";
import { adoptSecrets } from "../../../src/engine/adopt-secrets.js";
import type { HostSession } from "../../../src/engine/host-session.js";
import { SecretsStore } from "../../../src/inventory/secrets-store.js";
import site from "../../../playbooks/site.js";
import { roleUse } from "../../../src/engine/playbook.js";
import { countingListener } from "../../helpers/listener.js";
import { dev2AtPort, rigger } from "../../helpers/rigger.js";
import { onHost } from "../../../src/engine/secret-on-host.js";
import { prepared, rendered } from "./prepared-site.js";

it("reads every secret back from the very file each role writes it to: what a run without its store adopts", () => {
  // A copy without a store: every secret is generated, as on a first run (or one that lost its store).
  const dir = mkdtempSync(join(tmpdir(), "rigger-fleet-"));
  cpSync("inventory/fleet", dir, { recursive: true, filter: (path) => !path.includes("secrets.") });
  const run = prepared(dir);
  const secrets = run.generatedSecrets;
  const checked = new Set<string>();
  const roles = new Map(site.plays.flatMap((play) => play.roles.map(roleUse)).map((use) => [use.role.name, use.role]));
  for (const [host, sources] of run.secretSources)
    for (const source of sources) {
      const content = rendered(run.plays, host, source.path);
      expect(source.pick(content), `${source.name} in ${source.path} on ${host}`).toBe(secrets[source.name]);
      checked.add(source.name);
    }
  // Every secret a role generates is kept somewhere it can be read back from.
  const generated = [...roles.values()].flatMap((role) => Object.keys(role.secrets ?? {}));
  expect([...checked].sort()).toEqual([...new Set(generated)].sort());
});

it("without its store, stops before generating anything when a host that may hold the secrets cannot be reached", async () => {
  const listener = await countingListener();
  try {
    const inventory = dev2AtPort(listener.port);
    const run = await rigger("playbooks/site.ts", "-i", inventory);
    expect(run.code).toBe(4);
    expect(run.err).toMatch(
      /^rigger: dev2 is unreachable: .*: it may hold secrets that .*secrets\.yaml lacks \(.*livekit_api_secret.*synapse_signing_key.*\); nothing was generated or changed/,
    );
    expect(existsSync(join(inventory, "secrets.yaml"))).toBe(false);
  } finally {
    listener.close();
  }
});

it("tells a secret a file does not hold (not used there: skipped) from a file it cannot read (the run stops)", () => {
  expect(onHost.yaml("/x", "redis", "password").pick("port: 7880\n")).toBeUndefined();
  expect(() => onHost.yaml("/x", "redis").pick("a: [unclosed\n")).toThrow("not YAML");
  expect(onHost.option("/x", "requirepass").pick('port 6379\nrequirepass "s3cret-value"\n')).toBe("s3cret-value");
  expect(() => onHost.keyFile("/x", 1).pick("garbage\n")).toThrow("not a key file");
  expect(() => onHost.file("/x").pick("\n")).toThrow("not a value (empty)");
});

/** inventory/fleet without its store, or with a store holding only the given secrets. */
function fleetWithStore(secrets?: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "rigger-fleet-"));
  cpSync("inventory/fleet", dir, { recursive: true, filter: (path) => !path.includes("secrets.") });
  if (secrets) writeFileSync(join(dir, "secrets.yaml"), stringify(secrets), { mode: 0o600 });
  return dir;
}

const hostsHolding = (sources: Map<string, Array<{ name: string }>>, secret: string) =>
  [...sources]
    .filter(([, wanted]) => wanted.some((source) => source.name === secret))
    .map(([host]) => host)
    .sort();

it("looks for a secret the store lacks on every host whose role keeps it, whatever --limit says", () => {
  // The store a lost-store run with --limit sfu2 leaves: sfu2's four secrets and nothing of the homeserver's.
  const full = prepared(fleetWithStore()).generatedSecrets;
  const sfu2Only = Object.fromEntries(
    ["livekit_api_key", "livekit_api_secret", "turn_shared_secret", "redis_password"].map((name) => [
      name,
      full[name]!,
    ]),
  );
  const next = prepared(fleetWithStore(sfu2Only));
  expect(Object.keys(next.generatedSecrets)).toContain("synapse_signing_key");
  expect(hostsHolding(next.secretSources, "synapse_signing_key")).toEqual(["hs1"]);
  expect(hostsHolding(next.secretSources, "synapse_postgres_password")).toEqual(["hs1"]);

  // A --limit run that would generate the TURN secret reads it from the TURN host and the homeserver too.
  const { turn_shared_secret: _lost, ...withoutTurn } = full;
  const limited = prepared(fleetWithStore(withoutTurn), {}, "sfu2");
  expect([...limited.plays.flatMap((p) => [...p.hosts.keys()])].every((host) => host === "sfu2")).toBe(true);
  expect(Object.keys(limited.generatedSecrets)).toEqual(["turn_shared_secret"]);
  expect(hostsHolding(limited.secretSources, "turn_shared_secret")).toEqual(["hs1", "sfu1", "sfu2", "turn1"]);

  // A complete store: nothing generated, no host to read.
  expect(prepared(fleetWithStore(full), {}, "sfu2").secretSources.size).toBe(0);
});

/** A host session that runs its commands in a local shell (the read-back's own script, on real files), counting those at once. */
function localHosts(files: Record<string, Record<string, string | null>>) {
  const root = mkdtempSync(join(tmpdir(), "rigger-readback-"));
  const state = { open: 0, peak: 0 };
  for (const [host, entries] of Object.entries(files))
    for (const [name, content] of Object.entries(entries)) {
      mkdirSync(join(root, host), { recursive: true });
      if (content === null) mkdirSync(join(root, host, name));
      else writeFileSync(join(root, host, name), content);
    }
  const open = async () => {
    state.open++;
    state.peak = Math.max(state.peak, state.open);
    await new Promise((wait) => setTimeout(wait, 20));
    return {
      run: async (command: string) => {
        const result = spawnSync("sh", ["-c", command], { encoding: "utf8" });
        return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
      },
      close: () => void state.open--,
    } as unknown as HostSession;
  };
  const source = (host: string, name: string, file: string) => ({ name, ...onHost.file(join(root, host, file)) });
  return { open, state, source };
}

it("reads back through -f's limit of hosts at once, and refuses an empty file or a directory where a secret was kept", async () => {
  const hosts = Object.fromEntries(
    Array.from({ length: 12 }, (_, i) => [`sfu${i}`, { key: "the-live-secret-value\n" }]),
  );
  const fleet = localHosts({ ...hosts, empty: { key: "" }, folder: { key: null }, none: {} });
  const sources = new Map(Object.keys(hosts).map((host) => [host, [fleet.source(host, "svc_secret", "key")]]));
  const { adopted } = await adoptSecrets(
    new Map([...sources, ["none", [fleet.source("none", "svc_secret", "key")]]]),
    fleet.open,
    3,
  );
  expect(adopted).toEqual({ svc_secret: "the-live-secret-value" });
  expect(fleet.state.peak).toBe(3);

  await expect(
    adoptSecrets(new Map([["empty", [fleet.source("empty", "svc_secret", "key")]]]), fleet.open, 3),
  ).rejects.toThrow(
    /^empty: svc_secret: .*key is there but empty: rather than generate a new one over it, the run stops/,
  );
  await expect(
    adoptSecrets(new Map([["folder", [fleet.source("folder", "svc_secret", "key")]]]), fleet.open, 3),
  ).rejects.toThrow(/key is there but not a readable file/);
});

it("generates a rotated secret anew rather than read the live one back, and ends the rotation once the new value is kept", async () => {
  const full = prepared(fleetWithStore()).generatedSecrets;
  const dir = fleetWithStore(full);
  const store = new SecretsStore(dir);
  await store.rotate("turn_shared_secret");
  expect(store.names()).not.toContain("turn_shared_secret");
  expect(store.rotating()).toEqual(["turn_shared_secret"]);
  const next = prepared(dir);
  expect(Object.keys(next.generatedSecrets)).toEqual(["turn_shared_secret"]);
  expect(next.secretSources.size).toBe(0);
  await store.add(next.generatedSecrets);
  const after = new SecretsStore(dir);
  expect(after.rotating()).toEqual([]);
  expect(after.get("turn_shared_secret")).toBe(next.generatedSecrets.turn_shared_secret);
  expect(readFileSync(join(dir, "secrets.yaml"), "utf8")).not.toContain(".rotating");
});

it("refuses, saying why, a host outside --limit whose variables do not hold when this run must learn where it keeps a secret", () => {
  const full = prepared(fleetWithStore()).generatedSecrets;
  const { turn_shared_secret: _lost, ...withoutTurn } = full;
  const dir = fleetWithStore(withoutTurn);
  writeFileSync(
    join(dir, "hosts.yaml"),
    readFileSync(join(dir, "hosts.yaml"), "utf8").replace(
      "turn1: { ansible_host: 203.0.113.30, public_ip: 203.0.113.30 }",
      "turn1: { ansible_host: 203.0.113.30, public_ip: not-an-address }",
    ),
  );
  expect(() => prepared(dir, {}, "sfu2")).toThrow(
    /turn1: public_ip: [\s\S]*turn1 is outside --limit, but this run generates secrets it may hold/,
  );
  // With every secret in the store nothing is read back, and the limited run goes on.
  writeFileSync(join(dir, "secrets.yaml"), stringify(full), { mode: 0o600 });
  expect(() => prepared(dir, {}, "sfu2")).not.toThrow();
});
