import type { Masker } from "../engine/masker.js";
import { summarize, type HostSummary, type RunEvent } from "../engine/events.js";

/** Shows a run as it happens, then its recap. */
export interface Renderer {
  event(event: RunEvent): void;
  finish(events: RunEvent[]): Promise<HostSummary[]>;
}

export type RecapFormat = "table" | "ansible";

/** The recap as a table, or as ansible-playbook's PLAY RECAP lines (`-o ansible`) for scripts that read those. */
export function recap(rows: HostSummary[], verbosity: number, format: RecapFormat): string[] {
  if (format === "table") return recapTable(rows, verbosity);
  const count = (name: string, n: number) => `${name}=${String(n).padEnd(4)}`;
  return [
    "",
    `PLAY RECAP ${"*".repeat(69)}`,
    ...rows.map((r) =>
      `${r.host.padEnd(26)} : ${[count("ok", r.ok), count("changed", r.changed), count("unreachable", r.status === "unreachable" ? 1 : 0), count("failed", r.failed), count("skipped", r.skipped), count("rescued", 0), `ignored=0`].join(" ")}`.trimEnd(),
    ),
  ];
}

/** The recap: a row per host with its counts and time (and round trips at -v). */
function recapTable(rows: HostSummary[], verbosity: number): string[] {
  const header = [
    "HOST",
    "OK",
    "CHANGED",
    "FAILED",
    "SKIPPED",
    "UNREACHABLE",
    ...(verbosity > 0 ? ["ROUND TRIPS"] : []),
    "TIME",
  ];
  const cells = rows.map((r) =>
    [
      r.host,
      r.ok,
      r.changed,
      r.failed,
      r.skipped,
      r.status === "unreachable" ? 1 : 0,
      ...(verbosity > 0 ? [r.roundTrips] : []),
      `${(r.ms / 1000).toFixed(2)}s`,
    ].map(String),
  );
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    c
      .map((v, i) => v.padEnd(widths[i]!))
      .join("  ")
      .trimEnd();
  return ["", "RECAP", ...[header, ...cells].map(line)];
}

/** A task event as one line: `[host] role | task: status`. */
export function taskLine(event: Extract<RunEvent, { type: "task" }>, verbosity: number): string {
  const status =
    event.check && event.status === "changed" ? (event.handler ? "would run" : "would change") : event.status;
  const detail = event.error ? `: ${event.error}` : "";
  return `[${event.host}] ${event.role} | ${event.task}: ${status}${detail}${verbosity > 1 ? ` (${event.ms} ms)` : ""}`;
}

/** One line per event, for logs and any output that is not a terminal. Every line is masked. */
export class LineRenderer implements Renderer {
  constructor(
    private readonly write: (line: string) => void,
    private readonly masker: Masker,
    private readonly verbosity: number,
    /** --diff: files line by line, and the commands of other changes. */
    private readonly diff: boolean,
    private readonly recapFormat: RecapFormat = "table",
  ) {}

  print(line: string): void {
    this.write(this.masker.mask(line));
  }

  event(event: RunEvent): void {
    switch (event.type) {
      case "warning":
        return this.print(`warning: ${event.message}`);
      case "progress":
        return this.print(`[${event.host}] ${event.role} | ${event.task}: ${event.message}`);
      case "host-start":
        return this.verbosity > 0 ? this.print(`[${event.host}] connecting`) : undefined;
      case "host-end":
        if (event.status === "untouched")
          this.print(`[${event.host}] UNTOUCHED ${event.error}: the rollout stopped before this host's turn`);
        else if (event.status !== "ok")
          this.print(`[${event.host}] ${event.status.toUpperCase()}: ${event.error ?? ""}`);
        return;
      case "task": {
        this.print(taskLine(event, this.verbosity));
        const changes =
          this.verbosity > 1 ? event.changes : this.diff ? event.changes.filter((c) => c.startsWith("$")) : [];
        changes.forEach((c) => this.print(`    ${c}`));
        event.diffs.forEach((d) => d.split("\n").forEach((l) => this.print(`    ${l}`)));
      }
    }
  }

  async finish(events: RunEvent[]): Promise<HostSummary[]> {
    const rows = summarize(events);
    recap(rows, this.verbosity, this.recapFormat).forEach((line) => this.print(line));
    return rows;
  }
}
