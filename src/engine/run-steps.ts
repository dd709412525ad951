import { octalMode } from "../common/mode.js";
import { ConnectionError } from "../connection/errors.js";
import { isChange, type GuardedStep, type Observation, type Operation, type Step } from "../ops/operation.js";
import { InstalledButFailedError } from "./installed-but-failed.js";
import type { Session } from "./run-contract.js";

/** The end of a command's output kept as a check's evidence or a step's progress. */
export const EVIDENCE_CHARS = 2000;

/** Where a write's undo is kept, in a play with rollback. */
export type RecordUndo = (file: { path: string; backup?: string }) => void;

/** Makes a step happen; a probe returns what it saw (its evidence), an announced step its output. */
export async function applyStep(
  session: Session,
  op: Operation,
  step: Step,
  recordUndo: RecordUndo,
): Promise<string | Observation | undefined> {
  switch (step.kind) {
    case "write":
      try {
        const { backup } = await session.write(step);
        recordUndo({ path: step.path, ...(backup ? { backup } : {}) });
      } catch (error) {
        if (error instanceof InstalledButFailedError)
          recordUndo({ path: step.path, ...(error.backup ? { backup: error.backup } : {}) });
        throw error;
      }
      return undefined;
    case "upload":
      return void (await session.upload(step));
    case "guarded":
      return void (await applyGuarded(session, step));
    case "local":
      return step.run(session).catch((error: Error) => {
        if (error instanceof ConnectionError) throw error;
        throw new Error(`${step.failure}: ${error.message}`);
      });
    case "run":
    case "probe": {
      const timeoutSeconds = (step.kind === "run" && step.timeoutSeconds) || op.timeoutSeconds;
      const output = await runChecked(
        session,
        step.command,
        step.kind === "probe" ? step.failure : undefined,
        timeoutSeconds,
      );
      return step.kind === "probe" || step.announce ? output : undefined;
    }
  }
}

/** The steps with `command` added to their last change, when that is a command or a file write; else the steps unchanged. */
export function withEpilogue(steps: Step[], command: string): Step[] {
  const last = steps.map(isChange).lastIndexOf(true);
  const step = steps[last];
  let replaced: Step | undefined;
  if (step?.kind === "write") replaced = { ...step, then: step.then ? `${step.then}\n${command}` : command };
  else if (step?.kind === "run") replaced = { ...step, command: `{ ${step.command}\n} && ${command}` };
  return replaced ? steps.map((s, i) => (i === last ? replaced : s)) : steps;
}

/** A change as the run reports it. */
export function describeStep(step: Step): string {
  switch (step.kind) {
    case "write":
    case "upload":
      return `${step.kind} ${step.path} (mode ${octalMode(step.mode)}, ${step.owner}:${step.group})`;
    case "guarded":
      return `$ ${step.apply} (guarded: undone by the host after ${step.rollbackSeconds} s unless a new SSH connection succeeds)`;
    case "local":
      return "(a check made on the controller)";
    default:
      return `$ ${step.command}`;
  }
}

/** Runs a command; a non-zero exit fails the task with its last lines of output. Returns its output (the end of it). */
export async function runChecked(
  session: Session,
  command: string,
  failure?: string,
  timeoutSeconds?: number,
): Promise<string> {
  const result = await session.run(command, timeoutSeconds);
  if (result.code === 0) return (result.stdout + result.stderr).trim().slice(-EVIDENCE_CHARS);
  const output = (result.stderr.trim() || result.stdout.trim()).split("\n").slice(-5).join("\n");
  throw new Error(`${failure ?? `exit ${result.code}`}: ${output}`);
}

/** A change that could cut the controller off: armed to undo itself, made, and kept only once a new connection gets through. */
async function applyGuarded(session: Session, step: GuardedStep): Promise<void> {
  const armed = Date.now();
  await runChecked(session, step.arm);
  await runChecked(session, step.apply);
  const reachable = () =>
    session.confirmNewConnection().then(
      () => undefined,
      (error: Error) => error,
    );
  const blocked = await reachable();
  if (!blocked) return void (await runChecked(session, step.cancel));
  // The host undoes the change by itself: wait for that, then say which it was.
  const deadline = armed + (step.rollbackSeconds + 15) * 1000;
  let restored = false;
  while (!restored && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 2000));
    restored = !(await reachable());
  }
  const outcome = restored ? "the host restored the previous state by itself" : "and the host is still unreachable";
  throw new Error(`${step.what} blocked new SSH connections (${blocked.message}); ${outcome}`);
}
