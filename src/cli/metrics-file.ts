import { renameSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import type { HostSummary, RunEvent } from "../engine/events.js";

export interface RunOutcome {
  playbook: string;
  check: boolean;
  exitCode: number;
  /** When the run ended, in seconds since the epoch. */
  endedAt: number;
  seconds: number;
  /** Each host, with its status as the recap says it (unreachable, failed, ok, untouched). */
  hosts: Array<Pick<HostSummary, "host" | "changed" | "failed"> & { status: string }>;
  /** The tasks and checks that failed, by host and role: which check an alert names. */
  failures?: Array<{ host: string; role: string; task: string }>;
  /** What measuring checks found (a certificate's expiry, the newest backup's time). */
  measurements?: Array<{ host: string; metric: string; help: string; value: number }>;
}

/** The failed tasks and the measurements of a run's events. */
export function fromEvents(events: RunEvent[]): Pick<RunOutcome, "failures" | "measurements"> {
  const tasks = events.filter((e) => e.type === "task");
  return {
    failures: tasks.filter((t) => t.status === "failed").map(({ host, role, task }) => ({ host, role, task })),
    measurements: tasks.flatMap((t) => (t.measured ? [{ host: t.host, ...t.measured }] : [])),
  };
}

/** A label value as Prometheus's text format quotes it. */
const label = (value: string) => `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;

const metric = (name: string, help: string, samples: Array<[string, number]>) => [
  `# HELP ${name} ${help}`,
  `# TYPE ${name} gauge`,
  ...samples.map(([labels, value]) => `${name}{${labels}} ${value}`),
];

/**
 * The run as node_exporter's textfile collector reads it, for a drift check from cron that
 * Prometheus alerts on: when it ended, how (the exit code: 3 drift, 4 a host unreachable), and per
 * host what changed (or would have) and what failed.
 */
export function metricsText(run: RunOutcome): string {
  const of = `playbook=${label(basename(run.playbook))},mode=${label(run.check ? "check" : "apply")}`;
  const perHost = (pick: (h: RunOutcome["hosts"][number]) => number) =>
    run.hosts.map((h): [string, number] => [`${of},host=${label(h.host)}`, pick(h)]);
  return [
    ...metric("rigger_run_end_timestamp_seconds", "When rigger's last run of this playbook ended.", [
      [of, run.endedAt],
    ]),
    ...metric(
      "rigger_run_exit_code",
      "The exit code of that run: 0 ok, 1 bad input, 2 failed, 3 drift, 4 unreachable.",
      [[of, run.exitCode]],
    ),
    ...metric("rigger_run_duration_seconds", "How long that run took.", [[of, run.seconds]]),
    ...metric(
      "rigger_host_changed_tasks",
      "Tasks that changed a host in that run (in check mode: would have).",
      perHost((h) => h.changed),
    ),
    ...metric(
      "rigger_host_failed_tasks",
      "Tasks and checks that failed on a host in that run.",
      perHost((h) => h.failed),
    ),
    ...metric(
      "rigger_host_unreachable",
      "1 when the host could not be reached in that run.",
      perHost((h) => (h.status === "unreachable" ? 1 : 0)),
    ),
    ...metric(
      "rigger_task_failed",
      "1 for each task or check that failed in that run, by host, role and task.",
      (run.failures ?? []).map((f) => [`${of},host=${label(f.host)},role=${label(f.role)},task=${label(f.task)}`, 1]),
    ),
    // One gauge per measured metric, a sample per host.
    ...[...new Set((run.measurements ?? []).map((m) => m.metric))].flatMap((name) => {
      const samples = run.measurements!.filter((m) => m.metric === name);
      return metric(
        `rigger_${name}`,
        samples[0]!.help,
        samples.map((m) => [`${of},host=${label(m.host)}`, m.value]),
      );
    }),
    "",
  ].join("\n");
}

/** Written whole, as the collector needs: a temporary beside the file, then renamed over it. */
export function writeMetricsFile(path: string, run: RunOutcome): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, metricsText(run), { mode: 0o644 });
  renameSync(temporary, path);
}
