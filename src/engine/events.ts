import type { Chart } from "../ops/operation.js";

export type TaskStatus = "ok" | "changed" | "failed" | "skipped";
/** "untouched": a rolling rollout stopped before this host's batch; nothing was done to it. */
export type HostStatus = "ok" | "failed" | "unreachable" | "untouched";

export type RunEvent =
  | { type: "host-start"; host: string }
  | {
      type: "task";
      host: string;
      play: string;
      role: string;
      task: string;
      handler: boolean;
      status: TaskStatus;
      /** In check mode "changed" means "would change". */
      check: boolean;
      /** What changed (or would): commands, and files written with their mode and owner. */
      changes: string[];
      /** With --diff: file contents line by line. */
      diffs: string[];
      /** What a probe saw (its output, the end of it): the evidence of a check. */
      evidence?: string;
      /** How a check went over time (a call's quality), for the evidence report. */
      charts?: Chart[];
      /** What a measuring check found (see Operation.measure). */
      measured?: { metric: string; help: string; value: number };
      error?: string;
      ms: number;
    }
  /** A long step of a task: what it waits for, then how it went. */
  | { type: "progress"; host: string; role: string; task: string; message: string }
  | { type: "host-end"; host: string; status: HostStatus; error?: string; roundTrips: number; ms: number }
  | { type: "warning"; message: string };

export type TaskEvent = Extract<RunEvent, { type: "task" }>;
export type HostEndEvent = Extract<RunEvent, { type: "host-end" }>;

export interface HostSummary {
  host: string;
  ok: number;
  changed: number;
  failed: number;
  skipped: number;
  status: HostStatus;
  roundTrips: number;
  ms: number;
}

/** Folds the events of a run into one line per host, for the recap and the JSON report. */
export function summarize(events: RunEvent[]): HostSummary[] {
  const hosts = new Map<string, HostSummary>();
  const get = (host: string) => {
    let s = hosts.get(host);
    if (!s)
      hosts.set(host, (s = { host, ok: 0, changed: 0, failed: 0, skipped: 0, status: "ok", roundTrips: 0, ms: 0 }));
    return s;
  };
  for (const event of events) {
    if (event.type === "host-start") get(event.host);
    if (event.type === "task") get(event.host)[event.status]++;
    if (event.type === "host-end")
      Object.assign(get(event.host), { status: event.status, roundTrips: event.roundTrips, ms: event.ms });
  }
  return [...hosts.values()];
}
