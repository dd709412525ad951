/** Ansible's everyday flags for a fleet: listing without connecting, connection defaults, a hidden prompt. */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, expect, it } from "vitest";
import { parseCli } from "../../../src/cli/args.js";
import { main } from "../../../src/cli/main.js";
import { promptHidden } from "../../../src/cli/prompt.js";
import { countingListener, type CountingListener } from "../../helpers/listener.js";

let listener: CountingListener;
beforeAll(async () => (listener = await countingListener()));
afterAll(() => listener.close());

function inventory(): string {
  const dir = mkdtempSync(join(tmpdir(), "rigger-fleet-"));
  const port = listener.port;
  writeFileSync(
    join(dir, "hosts.yaml"),
    `all:\n  vars: { ansible_host: 127.0.0.1, ansible_port: ${port} }\n  children:\n    web:\n      hosts:\n        web1:\n        web2:\n    db:\n      hosts:\n        db1: { fault_run: "true" }\n`,
  );
  return dir;
}

async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

it("lists the hosts and the tasks a run would touch, connecting to none", async () => {
  const before = listener.connects();
  const hosts = await cli("test/e2e/fixtures/faults.ts", "-i", inventory(), "--list-hosts", "--limit", "web");
  expect(hosts).toMatchObject({ code: 0, out: 'play "faults" (2 hosts):\n  web1\n  web2' });
  const tasks = await cli("test/e2e/fixtures/faults.ts", "-i", inventory(), "--list-tasks");
  expect(tasks).toMatchObject({ code: 0, out: 'play "faults":\n  fault\n    fault command' });
  expect(listener.connects()).toBe(before);
});

it("refuses --start-at-task naming no task of the playbook, before connecting", async () => {
  const before = listener.connects();
  const result = await cli("test/e2e/fixtures/faults.ts", "-i", inventory(), "--start-at-task", "no such task");
  expect(result.code).toBe(1);
  expect(result.err).toContain('--start-at-task: no task of the playbook is named "no such task"');
  expect(listener.connects()).toBe(before);
});

it("reads -u, --private-key, -b and -K as Ansible does", () => {
  const options = parseCli([
    "site.ts",
    "-i",
    "inv",
    "-u",
    "deploy",
    "--private-key",
    "/k",
    "-b",
    "-K",
    "--start-at-task",
    "x",
  ]);
  expect(options).toMatchObject({
    user: "deploy",
    privateKey: "/k",
    become: true,
    askBecomePass: true,
    startAtTask: "x",
  });
});

it("asks for the become password without echoing it, and refuses without a terminal", async () => {
  const input = Object.assign(new PassThrough(), {
    isTTY: true,
    raw: false,
    setRawMode(raw: boolean) {
      this.raw = raw;
    },
  });
  const shown: string[] = [];
  const answer = promptHidden("BECOME password: ", input, (t) => shown.push(t));
  expect(input.raw).toBe(true);
  input.write("s3cr");
  input.write("x\u007fet\r");
  expect(await answer).toBe("s3cret");
  expect(shown.join("")).toBe("BECOME password: \n");
  expect(input.raw).toBe(false);
  await expect(promptHidden("?", new PassThrough(), () => {})).rejects.toThrow("needs a terminal");
});

it("lists hosts, tasks and tags of an inventory still missing its variables, as ansible-playbook does, saying what is missing", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rigger-bare-"));
  writeFileSync(join(dir, "hosts"), "[matrixrtc]\nmatrix1 ansible_host=192.0.2.7\n");
  const hosts = await cli("playbooks/site.ts", "-i", dir, "--list-hosts");
  expect(hosts.code).toBe(0);
  expect(hosts.out).toContain('play "sfu" (1 hosts):\n  matrix1');
  expect(hosts.err).toMatch(
    /^rigger: warning: \d+ variables refused:\n {2}\S+group_vars\/all\.yaml: matrix1: matrix_server_name: required, and set nowhere/m,
  );
  const tasks = await cli("playbooks/site.ts", "-i", dir, "--list-tasks", "-t", "livekit");
  expect(tasks).toMatchObject({
    code: 0,
    out: 'play "sfu":\n  livekit\n    (its tasks are built once the variables warned about are set)',
  });
  const tags = await cli("playbooks/site.ts", "-i", dir, "--list-tags");
  expect(tags.out).toContain('play "turn": TASK TAGS: [coturn]');
  // A run, and its syntax check, still refuse it.
  expect((await cli("playbooks/site.ts", "-i", dir, "--syntax-check")).code).toBe(1);
});
