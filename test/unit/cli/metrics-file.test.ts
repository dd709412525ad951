/** --metrics: the run's outcome for node_exporter's textfile collector, on every exit, for a drift check from cron. */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { fromEvents, metricsText } from "../../../src/cli/metrics-file.js";
import type { TaskEvent } from "../../../src/engine/events.js";
import { taskEvent } from "../../helpers/events.js";
import { countingListener, type CountingListener } from "../../helpers/listener.js";
import { dev2AtPort, rigger } from "../../helpers/rigger.js";

let listener: CountingListener;
beforeAll(async () => (listener = await countingListener()));
afterAll(() => listener.close());

/** The samples of a metrics text, as Prometheus's text format reads them: `name{labels} value`. */
const samples = (text: string) => text.split("\n").filter((line) => line && !line.startsWith("#"));

it("writes one gauge per fact of the run, each with its HELP and TYPE, labels quoted as the text format wants", () => {
  const text = metricsText({
    playbook: "playbooks/site.ts",
    check: true,
    exitCode: 3,
    endedAt: 1_800_000_000,
    seconds: 2.5,
    hosts: [{ host: 'odd"host', status: "ok", changed: 2, failed: 0 }],
  });
  expect(samples(text)).toEqual([
    'rigger_run_end_timestamp_seconds{playbook="site.ts",mode="check"} 1800000000',
    'rigger_run_exit_code{playbook="site.ts",mode="check"} 3',
    'rigger_run_duration_seconds{playbook="site.ts",mode="check"} 2.5',
    'rigger_host_changed_tasks{playbook="site.ts",mode="check",host="odd\\"host"} 2',
    'rigger_host_failed_tasks{playbook="site.ts",mode="check",host="odd\\"host"} 0',
    'rigger_host_unreachable{playbook="site.ts",mode="check",host="odd\\"host"} 0',
  ]);
  for (const name of new Set(samples(text).map((s) => s.split("{")[0])))
    expect(text).toContain(`# TYPE ${name} gauge\n`);
  expect(text.endsWith("\n")).toBe(true);
});

it("names each failed check and writes what measuring checks found, one gauge per measure with a sample per host", () => {
  const task = (host: string, task: string, status: TaskEvent["status"], measured?: TaskEvent["measured"]) =>
    taskEvent({ host, role: "backup", task: `verify: ${task}`, status, ...(measured ? { measured } : {}) });
  const newest = { metric: "backup_newest_timestamp_seconds", help: "When the newest backup was made." };
  const outcome = fromEvents([
    task("a", "the newest backup", "ok", { ...newest, value: 1_799_990_000 }),
    task("b", "the newest backup", "ok", { ...newest, value: 0 }),
    task("b", "backups are scheduled (daily)", "failed"),
    { type: "warning", message: "not a task" },
  ]);
  const text = metricsText({
    playbook: "playbooks/verify.ts",
    check: false,
    exitCode: 2,
    endedAt: 1_800_000_000,
    seconds: 1,
    hosts: [],
    ...outcome,
  });
  const of = 'playbook="verify.ts",mode="apply"';
  expect(samples(text)).toEqual(
    expect.arrayContaining([
      `rigger_task_failed{${of},host="b",role="backup",task="verify: backups are scheduled (daily)"} 1`,
      `rigger_backup_newest_timestamp_seconds{${of},host="a"} 1799990000`,
      `rigger_backup_newest_timestamp_seconds{${of},host="b"} 0`,
    ]),
  );
  expect(text).toContain("# HELP rigger_backup_newest_timestamp_seconds When the newest backup was made.\n");
  expect(text.match(/# TYPE rigger_backup_newest_timestamp_seconds gauge/g)).toHaveLength(1);
});

it("writes the file on a refused input and on an unreachable host, naming the host, for the cron check's alert", async () => {
  const inventory = dev2AtPort(listener.port);
  const file = join(inventory, "rigger.prom");
  const refused = await rigger(
    "playbooks/site.ts",
    "-i",
    inventory,
    "--check",
    "--metrics",
    file,
    "-e",
    "livekit_auto_create=true",
  );
  expect(refused.code).toBe(1);
  expect(samples(readFileSync(file, "utf8"))).toContain('rigger_run_exit_code{playbook="site.ts",mode="check"} 1');
  const unreachable = await rigger("playbooks/site.ts", "-i", inventory, "--check", "--metrics", file, "-T", "2");
  expect(unreachable.code).toBe(4);
  const text = readFileSync(file, "utf8");
  expect(samples(text)).toContain('rigger_run_exit_code{playbook="site.ts",mode="check"} 4');
  expect(samples(text)).toContain('rigger_host_unreachable{playbook="site.ts",mode="check",host="dev2"} 1');
  expect(existsSync(`${file}.${process.pid}.tmp`)).toBe(false);
});
