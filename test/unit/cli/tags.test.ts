/** Tags: every task and check carries its role's name; --list-tags; a tag that matches nothing stops the run before any connection. */
import { cpSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { main } from "../../../src/cli/main.js";
import { Masker } from "../../../src/engine/masker.js";
import { preparePlaybook } from "../../../src/engine/prepare.js";
import { loadInventory } from "../../../src/inventory/load.js";
import site from "../../../playbooks/site.js";
import { countingListener, type CountingListener } from "../../helpers/listener.js";

let listener: CountingListener;
beforeAll(async () => (listener = await countingListener()));
afterAll(() => listener.close());

async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

/** inventory/dev2 with its host pointed at the counting listener. */
function dev2() {
  const dir = mkdtempSync(join(tmpdir(), "rigger-tags-"));
  cpSync("inventory/dev2", dir, { recursive: true });
  writeFileSync(join(dir, "group_vars", "matrixrtc.yaml"), `ansible_host: 127.0.0.1\nansible_port: ${listener.port}\n`);
  return dir;
}

it("tags every task and every check with its role's name", () => {
  const { plays } = preparePlaybook(site, loadInventory("inventory/dev2"), { playbookFile: "playbooks/site.ts", extraVars: {}, masker: new Masker() });
  const roles = plays.flatMap((p) => p.hosts.get("dev2") ?? []);
  expect(roles.length).toBeGreaterThan(5);
  for (const role of roles) for (const op of [...role.tasks, ...role.verify].filter((o) => o.name !== "flush handlers")) expect(op.tags, `${role.name}: ${op.name}`).toContain(role.name);
});

it("lists each play's tags and all of them with --list-tags, connecting to nothing", async () => {
  const before = listener.connects();
  const { code, out } = await cli("playbooks/site.ts", "-i", dev2(), "--list-tags");
  expect(code).toBe(0);
  expect(out).toContain('play "host layer": TASK TAGS: [docker, firewall]');
  expect(out).toContain('play "sfu": TASK TAGS: [kernel, livekit]');
  expect(out.split("\n").at(-1)).toBe("ALL TAGS: [caddy, coturn, docker, element_call, firewall, kernel, livekit, livekit_webhook, lk_jwt, synapse]");
  expect(listener.connects()).toBe(before);
});

it("stops with a warning and exit 1, before any connection, when -t or --skip-tags matches no task", async () => {
  const before = listener.connects();
  const typo = await cli("playbooks/site.ts", "-i", dev2(), "-t", "livekt");
  expect(typo.code).toBe(1);
  expect(typo.err).toMatch(/^rigger: warning: -t livekt: no task of this run has this tag; nothing done \(--list-tags: caddy, coturn, .*livekit, /);
  const skipped = await cli("playbooks/site.ts", "-i", dev2(), "--skip-tags", "livekit,nginx");
  expect(skipped).toMatchObject({ code: 1, err: expect.stringContaining("--skip-tags nginx: no task of this run has this tag") });
  expect(listener.connects()).toBe(before);
});
