import { Listr, type ListrDefaultRenderer, type ListrSimpleRenderer, type ListrTaskWrapper } from "listr2";
import { summarize, type HostSummary, type RunEvent } from "../engine/events.js";
import type { Masker } from "../engine/masker.js";
import { recap, taskLine, type RecapFormat, type Renderer } from "./output.js";

type HostTaskWrapper = ListrTaskWrapper<unknown, ListrDefaultRenderer, ListrSimpleRenderer>;

interface HostTask {
  task?: HostTaskWrapper;
  done: () => void;
  failed: (error: Error) => void;
}

/** On a terminal: a live listr2 tree, one node per host showing its current task, then the recap. */
export class TreeRenderer implements Renderer {
  private readonly hosts = new Map<string, HostTask>();
  private readonly finished: Promise<unknown>;
  private readonly changed = new Map<string, number>();

  constructor(
    hosts: string[],
    private readonly masker: Masker,
    private readonly verbosity: number,
    private readonly recapFormat: RecapFormat = "table",
  ) {
    const list = new Listr<unknown, "default", "simple">(
      hosts.map((host) => ({
        title: host,
        task: (_ctx: unknown, task: HostTaskWrapper) =>
          new Promise<void>((done, failed) => this.hosts.set(host, { task, done, failed })),
        rendererOptions: { outputBar: this.verbosity > 1 ? 5 : 1, persistentOutput: this.verbosity > 1 },
      })),
      { concurrent: true, exitOnError: false, rendererOptions: { collapseErrors: false } },
    );
    this.finished = list.run().catch(() => undefined);
  }

  event(event: RunEvent): void {
    if (event.type === "warning") return console.warn(this.masker.mask(`warning: ${event.message}`));
    if (event.type === "host-start") return;
    const host = this.hosts.get(event.host);
    if (!host?.task) return;
    if (event.type === "progress") {
      host.task.output = this.masker.mask(`${event.role} | ${event.task}: ${event.message}`);
      return;
    }
    if (event.type === "task") {
      if (event.status === "changed") this.changed.set(event.host, (this.changed.get(event.host) ?? 0) + 1);
      host.task.output = this.masker.mask(taskLine(event, this.verbosity).replace(/^\[[^\]]+\] /, ""));
      return;
    }
    const changed = this.changed.get(event.host) ?? 0;
    if (event.status === "ok" || event.status === "untouched") {
      host.task.title = `${event.host}: ${event.status === "untouched" ? `untouched ${event.error} (the rollout stopped before its turn)` : changed ? `${changed} changed` : "nothing to change"}`;
      host.done();
    } else host.failed(new Error(this.masker.mask(`${event.host} ${event.status}: ${event.error ?? ""}`)));
  }

  async finish(events: RunEvent[]): Promise<HostSummary[]> {
    await this.finished;
    const rows = summarize(events);
    // The tree shows each host's last task only: what changed or failed stays on screen below it.
    const kept = events.filter(
      (e): e is Extract<RunEvent, { type: "task" }> =>
        e.type === "task" && (e.status === "changed" || e.status === "failed"),
    );
    const lines = [
      ...(kept.length ? ["", "CHANGED OR FAILED", ...kept.map((e) => taskLine(e, this.verbosity))] : []),
      ...recap(rows, this.verbosity, this.recapFormat),
    ];
    lines.forEach((line) => process.stdout.write(`${this.masker.mask(line)}\n`));
    return rows;
  }
}
