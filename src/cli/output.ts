import type { Masker } from "../engine/masker.js";
import { summarize, type HostSummary, type RunEvent } from "../engine/events.js";

/** One line per event, for logs and any output that is not a terminal. Every line is masked. */
export class LineRenderer {
  constructor(
    private readonly write: (line: string) => void,
    private readonly masker: Masker,
    private readonly verbosity: number,
    /** --diff: files line by line, and the commands of other changes. */
    private readonly diff: boolean,
  ) {}

  print(line: string): void {
    this.write(this.masker.mask(line));
  }

  event(event: RunEvent): void {
    switch (event.type) {
      case "warning":
        return this.print(`warning: ${event.message}`);
      case "host-start":
        return this.verbosity > 0 ? this.print(`[${event.host}] connecting`) : undefined;
      case "host-end":
        if (event.status !== "ok") this.print(`[${event.host}] ${event.status.toUpperCase()}: ${event.error ?? ""}`);
        return;
      case "task": {
        const status = event.check && event.status === "changed" ? (event.handler ? "would run" : "would change") : event.status;
        const detail = event.error ? `: ${event.error}` : "";
        this.print(`[${event.host}] ${event.role} | ${event.task}: ${status}${detail}${this.verbosity > 1 ? ` (${event.ms} ms)` : ""}`);
        const changes = this.verbosity > 1 ? event.changes : this.diff ? event.changes.filter((c) => c.startsWith("$")) : [];
        changes.forEach((c) => this.print(`    ${c}`));
        event.diffs.forEach((d) => d.split("\n").forEach((l) => this.print(`    ${l}`)));
      }
    }
  }

  recap(events: RunEvent[]): HostSummary[] {
    const rows = summarize(events);
    const header = ["HOST", "OK", "CHANGED", "FAILED", "SKIPPED", "UNREACHABLE", ...(this.verbosity > 0 ? ["ROUND TRIPS"] : []), "TIME"];
    const cells = rows.map((r) => [r.host, r.ok, r.changed, r.failed, r.skipped, r.unreachable ? 1 : 0, ...(this.verbosity > 0 ? [r.roundTrips] : []), `${(r.ms / 1000).toFixed(2)}s`].map(String));
    const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
    const line = (c: string[]) => c.map((v, i) => v.padEnd(widths[i]!)).join("  ").trimEnd();
    this.print("");
    this.print("RECAP");
    [header, ...cells].forEach((c) => this.print(line(c)));
    return rows;
  }
}
