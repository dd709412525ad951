import { renameSync, writeFileSync } from "node:fs";
import { basename } from "node:path";
import type { HostSummary } from "../engine/events.js";

export interface RunOutcome {
  playbook: string;
  check: boolean;
  exitCode: number;
  /** When the run ended, in seconds since the epoch. */
  endedAt: number;
  seconds: number;
  /** Each host, with its status as the recap says it (unreachable, failed, ok, untouched). */
  hosts: Array<Pick<HostSummary, "host" | "changed" | "failed"> & { status: string }>;
}

/** A label value as Prometheus's text format quotes it. */
const label = (value: string) => `"${value.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`;

/**
 * The run as node_exporter's textfile collector reads it, for a drift check from cron that
 * Prometheus alerts on: when it ended, how (the exit code: 3 drift, 4 a host unreachable), and per
 * host what changed (or would have) and what failed.
 */
export function metricsText(run: RunOutcome): string {
  const of = `playbook=${label(basename(run.playbook))},mode=${label(run.check ? "check" : "apply")}`;
  const metric = (name: string, help: string, samples: Array<[string, number]>) => [
    `# HELP ${name} ${help}`,
    `# TYPE ${name} gauge`,
    ...samples.map(([labels, value]) => `${name}{${labels}} ${value}`),
  ];
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
    "",
  ].join("\n");
}

/** Written whole, as the collector needs: a temporary beside the file, then renamed over it. */
export function writeMetricsFile(path: string, run: RunOutcome): void {
  const temporary = `${path}.${process.pid}.tmp`;
  writeFileSync(temporary, metricsText(run), { mode: 0o644 });
  renameSync(temporary, path);
}
