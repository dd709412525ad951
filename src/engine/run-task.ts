import { isUtf8 } from "node:buffer";
import { ConnectionError } from "../connection/errors.js";
import { fileFact } from "../facts/file.js";
import { isChange, NotYetPlannable, type Chart, type Operation, type Step } from "../ops/operation.js";
import { lineDiff } from "./diff.js";
import { earlyProbeFact } from "./early-probes.js";
import type { TaskEvent, TaskStatus } from "./events.js";
import { MASK } from "./masker.js";
import type { PreparedRole } from "./prepare.js";
import type { RunOptions, Session } from "./run-contract.js";
import { applyStep, describeStep, EVIDENCE_CHARS, runChecked, withEpilogue } from "./run-steps.js";

/** A host's state across the plays of a run. */
export interface HostState {
  /** In check mode: an earlier task on this host would change something. */
  drift: boolean;
  /** With --start-at-task: the host has reached that task (tasks before it are passed over). */
  reached: boolean;
  /** Checks that failed in checks-only plays: they fail the host at the end, without stopping it. */
  failedChecks: number;
}

/** The run's state across hosts. */
export interface RunState {
  /** Something changed on some host (probes read ahead are stale then). */
  changed: boolean;
}

/** One change a rollback undoes: a file put back as it was, or an operation's own undo command; and the handlers it notified. */
export type Undo = ({ file: { path: string; backup?: string } } | { command: string; task: string }) & {
  notify: string[];
};

/** Where a task runs: the host, its play and role, and whether it runs as a handler. */
export interface TaskPlace {
  session: Session;
  host: HostState;
  run: RunState;
  play: string;
  role: PreparedRole;
  handler: boolean;
  /** The handler names notified on this host in this play and not run yet, from any of its roles. */
  notified: Set<string>;
  /** A checks-only play: a failed probe is counted and reported, and the next one runs. */
  checksOnly: boolean;
  /** With the play's rollback: what this role changed in this run, oldest first, to be undone when it fails. */
  undo?: Undo[];
  /** What this role's changes keep until it has passed its checks (a replaced container kept aside). */
  commits: string[];
}

/**
 * Plans one operation against the host's facts and applies (or, in check mode, reports) its steps.
 * `epilogue`, a command of the runner's own, runs right after the last change, in the same exec
 * when that is a command or a file write; returns whether anything changed (and the epilogue ran).
 */
export async function runTask(
  place: TaskPlace,
  op: Operation,
  options: RunOptions,
  epilogue?: string,
): Promise<boolean> {
  const { session } = place;
  const started = Date.now();
  let changes: Step[] = [];
  const evidence: string[] = [];
  const charts: Chart[] = [];
  const emit = (status: TaskStatus, diffs: string[] = [], error?: string) =>
    options.emit(
      taskEvent(place, op, {
        status,
        check: options.check,
        changes: changes.map(describeStep),
        diffs,
        ms: Date.now() - started,
        ...(evidence.length ? { evidence: evidence.join("\n") } : {}),
        ...(charts.length ? { charts } : {}),
        ...(status === "ok" ? measured(op, evidence) : {}),
        ...(error ? { error } : {}),
      }),
    );
  try {
    await session.gather(Object.values(op.facts));
    const values = Object.fromEntries(Object.entries(op.facts).map(([name, fact]) => [name, session.value(fact)]));
    const steps = op.plan(values);
    changes = steps.filter(isChange);
    for (const warning of op.warnings?.(values) ?? [])
      options.emit({ type: "warning", message: `[${session.name}] ${warning}` });
    const diffs = options.diff ? await fileDiffs(session, changes, options) : [];
    if (options.check) {
      // What the real run would refuse is a failure here too: a new file that its validator rejects
      // (once the host is otherwise as wanted: before earlier changes, the validator may not be there yet).
      for (const step of place.host.drift ? [] : changes) {
        if (step.kind !== "write" || !step.validate) continue;
        const refused = await session.validate(step);
        if (refused) throw new Error(`${step.path}: ${refused}`);
      }
      // A probe proves a live state: in check mode nothing was changed for it to prove.
      emit(changes.length ? "changed" : steps.length ? "skipped" : "ok", diffs);
      if (changes.length) place.host.drift = true;
      return changes.length > 0;
    }
    const progress = (message: string) =>
      options.emit({ type: "progress", host: session.name, role: place.role.name, task: oneLine(op.name), message });
    const recordUndo = (file: { path: string; backup?: string }) => place.undo?.push({ file, notify: op.notify ?? [] });
    const applied = epilogue ? withEpilogue(steps, epilogue) : steps;
    for (const step of applied) {
      if (step.kind === "run" && step.announce) progress(step.announce);
      const early = step.kind === "probe" && !place.run.changed ? session.known(earlyProbeFact(step)) : undefined;
      if (early?.passed) {
        evidence.push(early.output.slice(-EVIDENCE_CHARS));
        continue;
      }
      const seen = await applyStep(session, op, step, recordUndo);
      if (typeof seen === "object") {
        evidence.push(seen.evidence);
        charts.push(...seen.charts);
      } else if (seen && (step.kind === "probe" || step.kind === "local")) evidence.push(seen);
      else if (seen) progress(seen);
    }
    if (changes.length) {
      if (epilogue && applied === steps) await runChecked(session, epilogue);
      session.invalidate();
      place.run.changed = true;
      if (op.commit) place.commits.push(op.commit);
      if (op.undo) place.undo?.push({ command: op.undo, task: op.name, notify: op.notify ?? [] });
    }
    emit(changes.length ? "changed" : "ok", diffs);
    return changes.length > 0;
  } catch (error) {
    // A lost connection is the host's failure, not this task's: it is reported once, as unreachable.
    if (error instanceof ConnectionError) throw error;
    if (options.check && place.host.drift && error instanceof NotYetPlannable) {
      // On a host that is not there yet (no package, so no unit), a task may be unplannable
      // until earlier changes are made: that is drift to report, not a failure.
      changes = [];
      options.emit(
        taskEvent(place, op, {
          status: "changed",
          check: true,
          changes: [`(cannot be planned before the changes above: ${(error as Error).message})`],
          diffs: [],
          ms: Date.now() - started,
        }),
      );
      return true;
    }
    emit("failed", [], (error as Error).message);
    throw error;
  }
}

/** For --diff: each file a change writes, its content on the host against the wanted one. */
async function fileDiffs(session: Session, changes: Step[], options: RunOptions): Promise<string[]> {
  const writes = changes.filter((s) => s.kind === "write");
  await session.gather(writes.map((w) => fileFact(w.path, true)));
  return writes.map((w) => {
    const current = session.value(fileFact(w.path, true)).content ?? "";
    const wanted =
      typeof w.content === "string"
        ? w.content
        : isUtf8(w.content) && !w.content.includes(0)
          ? w.content.toString("utf8")
          : undefined;
    if (wanted === undefined) return `${w.path}: binary content, ${(w.content as Buffer).length} bytes wanted`;
    return lineDiff(current, wanted, w.path, options.holdsSecret?.(wanted) ? { hideRemoved: MASK } : {});
  });
}

export function taskEvent(
  place: TaskPlace,
  op: Operation,
  outcome: Pick<
    TaskEvent,
    "status" | "check" | "changes" | "diffs" | "ms" | "error" | "evidence" | "charts" | "measured"
  >,
): TaskEvent {
  return {
    type: "task",
    host: place.session.name,
    play: place.play,
    role: place.role.name,
    task: oneLine(op.name),
    handler: place.handler,
    ...outcome,
  };
}

/** The number the last line of a measuring check's evidence is; nothing when it is none. */
function measured(op: Operation, evidence: string[]): Pick<TaskEvent, "measured"> {
  const value = Number(evidence.join("\n").trimEnd().split("\n").pop());
  return op.measure && evidence.length && Number.isFinite(value) ? { measured: { ...op.measure, value } } : {};
}

/** A name on one line whatever it holds (a path may hold a newline): control characters as JSON escapes them. */
const oneLine = (name: string) => name.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1));
