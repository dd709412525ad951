import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { stringify } from "yaml";
/** What a run prints for people and scripts coming from Ansible: --syntax-check, -o ansible, --json -, and the tree's kept changes. */
import { afterAll, beforeAll, expect, it, vi } from "vitest";
import { taskEvent } from "../../helpers/events.js";
import { TreeRenderer } from "../../../src/cli/tree.js";
import type { RunEvent } from "../../../src/engine/events.js";
import { Masker } from "../../../src/engine/masker.js";
import { countingListener, type CountingListener } from "../../helpers/listener.js";
import { dev2AtPort, rigger } from "../../helpers/rigger.js";
import { prepared } from "./prepared-site.js";

let listener: CountingListener;
beforeAll(async () => (listener = await countingListener()));
afterAll(() => listener.close());

it("--syntax-check validates inventory, variables and playbook without connecting, and fails as the run would", async () => {
  const before = listener.connects();
  expect(await rigger("playbooks/site.ts", "-i", dev2AtPort(listener.port), "--syntax-check")).toMatchObject({
    code: 0,
    out: "playbook: playbooks/site.ts (11 plays, 1 hosts): syntax ok",
  });
  const bad = await rigger(
    "playbooks/site.ts",
    "-i",
    dev2AtPort(listener.port, "livekit_auto_create: true\n"),
    "--syntax-check",
  );
  expect(bad.code).toBe(1);
  expect(bad.err).toContain("livekit_auto_create: must be false");
  const connection = await rigger(
    "playbooks/site.ts",
    "-i",
    dev2AtPort(listener.port, "ansible_connection: docker\n"),
    "--syntax-check",
  );
  expect(connection).toMatchObject({
    code: 1,
    err: expect.stringContaining(
      'dev2.ansible_connection: rigger reaches every host over SSH; connection "docker" is not supported',
    ),
  });
  expect(listener.connects()).toBe(before);
});

it("prints ansible-playbook's PLAY RECAP with -o ansible, and with --json - the report alone on stdout", async () => {
  // With a whole store: a run that lacks a secret first looks on the hosts for it, and stops when one is unreachable.
  const inventory = dev2AtPort(listener.port);
  writeFileSync(join(inventory, "secrets.yaml"), stringify(prepared(inventory).generatedSecrets), { mode: 0o600 });
  const run = await rigger("playbooks/site.ts", "-i", inventory, "-o", "ansible", "--json", "-");
  expect(run.code).toBe(4);
  const report = JSON.parse(run.out) as { exitCode: number; hosts: Array<{ host: string; status: string }> };
  expect(report).toMatchObject({ exitCode: 4, hosts: [{ host: "dev2", status: "unreachable" }] });
  expect(run.err).toMatch(/^PLAY RECAP \*+$/m);
  expect(run.err).toMatch(/^dev2 +: ok=0 +changed=0 +unreachable=1 +failed=0 +skipped=0 +rescued=0 +ignored=0$/m);
  expect(await rigger("playbooks/site.ts", "-i", dev2AtPort(listener.port), "-o", "yaml")).toMatchObject({
    code: 1,
    err: expect.stringContaining('--output expects table or ansible, got "yaml"'),
  });
});

it("on a terminal, keeps the changed and failed tasks on screen after the tree", async () => {
  const written: string[] = [];
  const spy = vi
    .spyOn(process.stdout, "write")
    .mockImplementation((chunk: string | Uint8Array) => (written.push(String(chunk)), true));
  try {
    const tree = new TreeRenderer(["h1"], new Masker(), 0);
    // The tree starts each host's node as it renders, a moment after it is made.
    await new Promise((resolve) => setTimeout(resolve, 50));
    const task = (name: string, status: "ok" | "changed" | "failed"): RunEvent =>
      taskEvent({ task: name, status, ...(status === "failed" ? { error: "boom" } : {}) });
    const events: RunEvent[] = [
      { type: "host-start", host: "h1" },
      task("a", "ok"),
      task("b", "changed"),
      task("c", "failed"),
      { type: "host-end", host: "h1", status: "failed", error: "boom", ms: 5, roundTrips: 1 },
    ];
    events.forEach((e) => tree.event(e));
    await tree.finish(events);
  } finally {
    spy.mockRestore();
  }
  const text = written.join("");
  expect(text).toContain("CHANGED OR FAILED\n[h1] web | b: changed\n[h1] web | c: failed: boom\n");
  expect(text).not.toContain("[h1] web | a: ok");
});

it("writes --json and --report on every exit: a refused input as its exit code and error, a host that had to be read first named unreachable", async () => {
  const refused = dev2AtPort(listener.port, "livekit_auto_create: true\n");
  const config = await rigger("playbooks/site.ts", "-i", refused, "--json", "-", "--report", join(refused, "evidence"));
  expect(config.code).toBe(1);
  expect(JSON.parse(config.out)).toMatchObject({
    exitCode: 1,
    playbook: "playbooks/site.ts",
    error: expect.stringMatching(/^configuration error: .*livekit_auto_create: must be false/),
  });
  expect(JSON.parse(readFileSync(join(refused, "evidence", "report.json"), "utf8"))).toMatchObject({
    exitCode: 1,
    error: expect.stringContaining("livekit_auto_create"),
    passed: 0,
    failed: 0,
  });

  // No store: the host must be read before anything is generated, and does not answer.
  const lost = dev2AtPort(listener.port);
  const report = join(lost, "run.json");
  const unreachable = await rigger("playbooks/site.ts", "-i", lost, "--json", report);
  expect(unreachable.code).toBe(4);
  expect(JSON.parse(readFileSync(report, "utf8"))).toMatchObject({
    exitCode: 4,
    hosts: [{ host: "dev2", status: "unreachable" }],
    error: expect.stringContaining("dev2 is unreachable"),
  });
});
