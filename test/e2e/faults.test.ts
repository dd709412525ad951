import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { SshConnection } from "../../src/connection/ssh.js";
import { HostSession } from "../../src/engine/host-session.js";
import { countingListener } from "../helpers/listener.js";
import { notOk, rigger, testInventory } from "../helpers/rigger.js";
import { describeHosts, fault } from "../testbed/testbed.js";

const PLAYBOOK = "test/e2e/fixtures/faults.ts";

describeHosts("faults: unreachable hosts, failed tasks, bad inventories, the host lock", (testbed) => {
  const connections: SshConnection[] = [];
  const open = async (host: string) => {
    const c = await SshConnection.open(testbed().target(host));
    connections.push(c);
    return c;
  };
  afterAll(() => connections.forEach((c) => c.close()));

  it("reports a host cut off mid-run unreachable, lets the others finish, and exits 4", async () => {
    const inventory = testInventory({
      "host_vars/th3.yaml": "fault_run: sleep 20\nrigger_ssh_keepalive: 1\nrigger_ssh_keepalive_count: 3\n",
    });
    const watcher = await open("th3");
    const run = rigger(PLAYBOOK, "-i", inventory);
    // Cut th3 once its command is running.
    for (let i = 0; i < 100 && (await watcher.exec("pgrep -f 'sleep 20'")).code !== 0; i++)
      await new Promise((r) => setTimeout(r, 100));
    await fault.cut("th3");
    try {
      const started = Date.now();
      const result = await run;
      expect(Date.now() - started).toBeLessThan(10_000);
      expect(result.code).toBe(4);
      expect(result.out).toMatch(/\[th3\] UNREACHABLE: th3 is unreachable/);
      expect(notOk(result.out).sort()).toEqual([
        "[th1] fault | fault command: changed",
        "[th2] fault | fault command: changed",
      ]);
      expect(result.out).toMatch(/th3\s+0\s+0\s+0\s+0\s+1\s/);
    } finally {
      await fault.restore("th3");
    }
  });

  it("stops a host at a failed task with the command's error, and exits 2", async () => {
    const inventory = testInventory({ "host_vars/th2.yaml": "fault_run: echo the disk is full >&2; exit 7\n" });
    const result = await rigger(PLAYBOOK, "-i", inventory);
    expect(result.code).toBe(2);
    expect(result.out).toContain("[th2] fault | fault command: failed: exit 7: the disk is full");
    expect(result.out).toMatch(/th1\s+0\s+1\s+0\s/);
    expect(result.out).toMatch(/th2\s+0\s+0\s+1\s/);
  });

  it("stops a rolling rollout at a broken first batch, leaving the other hosts untouched", async () => {
    const hosts = await Promise.all(["th1", "th2", "th3"].map(open));
    await Promise.all(hosts.map((h) => h.exec("rm -f /tmp/rigger-rollout-mark")));
    const inventory = testInventory({ "host_vars/th1.yaml": "rollout_broken: true\n" });
    const result = await rigger("test/e2e/fixtures/rollout.ts", "-i", inventory);
    expect(result.code).toBe(2);
    expect(result.out).toContain(
      'warning: rollout of play "rollout" stopped after batch 1: 1 of its 1 hosts failed (budget 0%)',
    );
    expect(result.out).toContain(`[th2] UNTOUCHED from play "rollout" on: the rollout stopped before this host's turn`);
    // Proof on the hosts themselves: nothing ran on th2 and th3.
    const marks = await Promise.all(hosts.map((h) => h.exec("test -e /tmp/rigger-rollout-mark").then((r) => r.code)));
    expect(marks).toEqual([1, 1, 1]);
    const fine = await rigger("test/e2e/fixtures/rollout.ts", "-i", testInventory());
    expect(fine.code).toBe(0);
    expect(await Promise.all(hosts.map((h) => h.exec("test -e /tmp/rigger-rollout-mark").then((r) => r.code)))).toEqual(
      [0, 0, 0],
    );
  });

  it("goes on to the next batch when a failure stays within the budget, and says which host failed", async () => {
    await fault.cut("th1");
    try {
      const report = join(mkdtempSync(join(tmpdir(), "rigger-budget-")), "run.json");
      const result = await rigger(
        "test/e2e/fixtures/rollout-budget.ts",
        "-i",
        testInventory({}, ["th1", "th2", "th3", "th4"]),
        "--json",
        report,
      );
      expect(result.code).toBe(4);
      expect(result.out).not.toContain("stopped after batch");
      const hosts = JSON.parse(readFileSync(report, "utf8")).hosts as Array<{ host: string; status: string }>;
      expect(Object.fromEntries(hosts.map((h) => [h.host, h.status]))).toEqual({
        th1: "unreachable",
        th2: "ok",
        th3: "ok",
        th4: "ok",
      });
    } finally {
      await fault.restore("th1");
    }
  });

  it("refuses a bad inventory with exit 1 before connecting to any host", async () => {
    const listener = await countingListener();
    const port = listener.port;
    try {
      const inventory = testInventory({
        "group_vars/all.yaml": `ansible_host: 127.0.0.1\nansible_port: ${port}\n`,
        "host_vars/th3.yaml": "ansible_port: 70000\n",
      });
      const result = await rigger(PLAYBOOK, "-i", inventory);
      expect(result.code).toBe(1);
      expect(result.err).toBe(
        `rigger: configuration error: ${inventory}/host_vars/th3.yaml: th3.ansible_port: expected an integer port from 1 to 65535`,
      );
      expect(result.out).toBe("");
      expect(listener.connects()).toBe(0);
    } finally {
      listener.close();
    }
  });

  it("kills a hung command at its time limit and fails its task with the elapsed time, not a run that never ends", async () => {
    const inventory = testInventory({ "host_vars/th1.yaml": "fault_run: sleep 600\nfault_timeout_seconds: 2\n" });
    const started = Date.now();
    const result = await rigger(PLAYBOOK, "-i", inventory, "--limit", "th1");
    expect(result.code).toBe(2);
    expect(result.out).toContain("[th1] fault | fault command: failed: still running after 2 s: killed");
    expect(Date.now() - started).toBeLessThan(10_000);
    const host = await open("th1");
    expect((await host.exec("pgrep -f 'sleep 600'")).code).not.toBe(0);
  });

  it("keeps a run's exit code when its JSON report cannot be written after the hosts are done, and says why", async () => {
    const inventory = testInventory({ "host_vars/th2.yaml": "fault_run: echo the disk is full >&2; exit 7\n" });
    // A folder where the report file should go: the path passed the check, the write fails at the end.
    const report = mkdtempSync(join(tmpdir(), "rigger-report-"));
    const result = await rigger(PLAYBOOK, "-i", inventory, "--limit", "th2", "--json", report);
    expect(result.code).toBe(2);
    expect(result.err).toContain("rigger: the JSON report could not be written: EISDIR");
  });

  it("lets exactly one of two runs started at the same instant change a host", async () => {
    const inventory = testInventory({ "host_vars/th2.yaml": "fault_run: sleep 2\n" });
    const results = await Promise.all([1, 2].map(() => rigger(PLAYBOOK, "-i", inventory, "--limit", "th2")));
    expect(results.map((r) => r.code).sort()).toEqual([0, 2]);
    expect(results.find((r) => r.code === 2)!.out).toMatch(
      /\[th2\] FAILED: th2 is being changed by another run \(rigger pid \d+ on /,
    );
  });

  it("refuses to change a host another run holds, naming the holder, until that run's connection is gone", async () => {
    const holder = new HostSession({
      name: "th1",
      connection: await open("th1"),
      takeLock: true,
      openAnother: () => open("th1"),
    });
    await holder.gather([]);
    const inventory = testInventory();
    const blocked = await rigger(PLAYBOOK, "-i", inventory, "--limit", "th1");
    expect(blocked.code).toBe(2);
    expect(blocked.out).toMatch(
      new RegExp(`\\[th1\\] FAILED: th1 is being changed by another run \\(rigger pid ${process.pid} on .+, since `),
    );
    // A check run reads only: it does not wait for the lock.
    expect((await rigger(PLAYBOOK, "-i", inventory, "--limit", "th1", "--check")).code).toBe(0);

    holder.close(); // as if that run had crashed: its sshd session ends, and with it the lock
    await new Promise((r) => setTimeout(r, 500));
    const after = await rigger(PLAYBOOK, "-i", inventory, "--limit", "th1");
    expect(after.code).toBe(0);
  });
});
