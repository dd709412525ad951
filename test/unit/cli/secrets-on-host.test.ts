import { cpSync, existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
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
    expect(run.err).toMatch(/^rigger: dev2 is unreachable: .*: it may hold secrets this run would otherwise generate \(.*secrets\.yaml is missing\); nothing was generated or changed/);
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
