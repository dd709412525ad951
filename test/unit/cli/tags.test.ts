/** Tags: every task and check carries its role's name; --list-tags; a tag that matches nothing stops the run before any connection. */
import { afterAll, beforeAll, expect, it } from "vitest";
import { Masker } from "../../../src/engine/masker.js";
import { preparePlaybook } from "../../../src/engine/prepare.js";
import { loadInventory } from "../../../src/inventory/load.js";
import site from "../../../playbooks/site.js";
import { countingListener, type CountingListener } from "../../helpers/listener.js";
import { dev2AtPort, rigger } from "../../helpers/rigger.js";

let listener: CountingListener;
beforeAll(async () => (listener = await countingListener()));
afterAll(() => listener.close());

it("tags every task and every check with its role's name", () => {
  const { plays } = preparePlaybook(site, loadInventory("inventory/dev2"), {
    playbookFile: "playbooks/site.ts",
    extraVars: {},
    masker: new Masker(),
  });
  const roles = plays.flatMap((p) => p.hosts.get("dev2") ?? []);
  expect(roles.length).toBeGreaterThan(5);
  for (const role of roles)
    for (const op of [...role.tasks, ...role.verify].filter((o) => o.name !== "flush handlers"))
      expect(op.tags, `${role.name}: ${op.name}`).toContain(role.name);
});

it("lists each play's tags and all of them with --list-tags, connecting to nothing", async () => {
  const before = listener.connects();
  const { code, out } = await rigger("playbooks/site.ts", "-i", dev2AtPort(listener.port), "--list-tags");
  expect(code).toBe(0);
  expect(out).toContain('play "host layer": TASK TAGS: [docker, firewall]');
  expect(out).toContain('play "sfu": TASK TAGS: [kernel, livekit]');
  expect(out.split("\n").at(-1)).toBe(
    "ALL TAGS: [backup, caddy, call_probe, coturn, docker, element_call, firewall, kernel, livekit, livekit_webhook, lk_jwt, postgres, synapse]",
  );
  expect(listener.connects()).toBe(before);
});

it("stops with a warning and exit 1, before any connection, when -t or --skip-tags matches no task", async () => {
  const before = listener.connects();
  const typo = await rigger("playbooks/site.ts", "-i", dev2AtPort(listener.port), "-t", "livekt");
  expect(typo.code).toBe(1);
  expect(typo.err).toMatch(
    /^rigger: warning: -t livekt: no task of this run has this tag; nothing done \(--list-tags: backup, caddy, call_probe, coturn, .*livekit, /,
  );
  const skipped = await rigger("playbooks/site.ts", "-i", dev2AtPort(listener.port), "--skip-tags", "livekit,nginx");
  expect(skipped).toMatchObject({
    code: 1,
    err: expect.stringContaining("--skip-tags nginx: no task of this run has this tag"),
  });
  expect(listener.connects()).toBe(before);
});

it("lists with --list-tasks what a run with the same -t, --skip-tags and --start-at-task would go through, as ansible-playbook does", async () => {
  const inventory = dev2AtPort(listener.port);
  const list = async (...args: string[]) =>
    (await rigger("playbooks/site.ts", "-i", inventory, "--list-tasks", ...args)).out;
  const roles = (out: string) =>
    out
      .split("\n")
      .filter((line) => /^ {2}\S/.test(line))
      .map((line) => line.trim());
  expect(roles(await list("-t", "livekit"))).toEqual(["livekit"]);
  expect(roles(await list("-t", "livekit,coturn", "--skip-tags", "coturn"))).toEqual(["livekit"]);
  const all = roles(await list());
  expect(roles(await list("--skip-tags", "docker"))).toEqual(all.filter((role) => role !== "docker"));
  // From the named task on: what comes before it in the run is left out.
  const fromLivekit = await list("--start-at-task", "template /etc/matrixrtc/livekit/livekit.yaml");
  expect(fromLivekit).not.toContain("  docker\n");
  expect(
    fromLivekit
      .split("\n")
      .find((line) => line.startsWith("    "))!
      .trim(),
  ).toBe("template /etc/matrixrtc/livekit/livekit.yaml");
});
