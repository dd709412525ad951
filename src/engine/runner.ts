import { isUtf8 } from "node:buffer";
import type { Duplex } from "node:stream";
import { octalMode } from "../common/mode.js";
import { ConnectionError } from "../connection/errors.js";
import { Semaphore } from "../connection/semaphore.js";
import type { ExecResult } from "../connection/ssh.js";
import { fileFact } from "../facts/file.js";
import type { Fact } from "../facts/fact.js";
import { FLUSH_HANDLERS, isChange, NotYetPlannable, operation, type GuardedStep, type Operation, type Step, type UploadStep, type WriteStep } from "../ops/operation.js";
import { lineDiff } from "./diff.js";
import { selectedByTags } from "./tag-selection.js";
import { InstalledButFailedError } from "./installed-but-failed.js";
import { MASK } from "./masker.js";
import type { HostStatus, RunEvent, TaskEvent, TaskStatus } from "./events.js";
import type { PreparedPlay, PreparedRole } from "./prepare.js";
import { earlyProbeFact, earlyProbes } from "./early-probes.js";
import { forgetHandler, pendingHandlersFact, rememberHandlers } from "./pending-handlers.js";
import { batches, budgetSpent } from "./rollout.js";

export interface RunOptions {
  check: boolean;
  diff: boolean;
  forks: number;
  tags?: string[];
  skipTags?: string[];
  /** Skip every task before the first one of this name (Ansible's --start-at-task). */
  startAtTask?: string;
  /** Run the handlers notified so far even when a later task of the host fails (Ansible's --force-handlers). */
  forceHandlers?: boolean;
  /** Opens the host's session (one connection for the whole run). */
  connect(host: string): Promise<Session>;
  emit(event: RunEvent): void;
  /** Whether text holds one of the run's secrets (a file that does is diffed without its old lines). */
  holdsSecret?(text: string): boolean;
}

/** What the runner needs of a host: HostSession over SSH, or a stub in unit tests. */
export interface Session {
  readonly name: string;
  readonly roundTrips: number;
  gather(facts: Fact<unknown>[]): Promise<void>;
  value<T>(fact: Fact<T>): T;
  /** The fact's value if it was gathered and nothing has changed since; else undefined. */
  known<T>(fact: Fact<T>): T | undefined;
  invalidate(): void;
  /** Runs a command; one still running after `timeoutSeconds` (default 600) is killed and fails. */
  run(command: string, timeoutSeconds?: number): Promise<ExecResult>;
  /** Writes a file all or nothing; says where the content it replaced was kept. */
  write(step: WriteStep): Promise<{ backup?: string }>;
  /** Copies a controller file to the host, streamed, all or nothing. */
  upload(step: UploadStep): Promise<void>;
  /** Puts back what a write replaced, or removes what it created. */
  restore(written: { path: string; backup?: string }): Promise<void>;
  /** Runs a write's validator on its content, changing nothing; says why it refused, or undefined. */
  validate(step: WriteStep): Promise<string | undefined>;
  /** A TCP stream to 127.0.0.1:port on the host, through the run's connection. */
  forward(port: number): Promise<Duplex>;
  /** Copies a file of the host to the controller. */
  download(remote: string, local: string): Promise<void>;
  /** Opens, and closes again, a new SSH connection: proof that new connections still get through. */
  confirmNewConnection(): Promise<void>;
  close(): void;
}

/** Where a task runs: the host, its play and role, and whether it runs as a handler. */
interface TaskPlace {
  session: Session;
  play: string;
  role: PreparedRole;
  handler: boolean;
  /** In check mode: whether an earlier task on this host would change something. */
  drift: { due: boolean };
  /** The handler names notified on this host in this play and not run yet, from any of its roles. */
  notified: Set<string>;
  /** With --start-at-task: whether this host has reached that task yet (tasks before it are passed over). */
  start: { reached: boolean };
  /** In a checks-only play: how many probes failed so far (each is reported, and the next one runs). */
  failedChecks?: { count: number };
  /** Whether anything changed on any host in this run (probes read ahead are stale then). */
  changes: { made: boolean };
  /** With the play's rollback: what this role changed in this run, oldest first, to be undone when it fails. */
  undo?: Undo[];
  /** What this role's changes keep until it has passed its checks (a replaced container kept aside). */
  commits: string[];
}

/** One change a rollback undoes: a file put back as it was, or an operation's own undo command; and the handlers it notified. */
type Undo = ({ file: { path: string; backup?: string } } | { command: string; task: string }) & { notify: string[] };

/** A host's side of the run, across plays. */
interface HostRun {
  started: number;
  session?: Session;
  drift: { due: boolean };
  start: { reached: boolean };
  /** Checks that failed in checks-only plays: they fail the host at the end, without stopping it. */
  failedChecks: { count: number };
  /** Set once the host failed or became unreachable: later plays skip it. */
  stopped: boolean;
  /** Its connection is closed: its part of the run is done. */
  released?: boolean;
}

/** Runs prepared plays: hosts in parallel (up to `forks`, in batches when a play has `serial`), each through its roles in order. */
export async function runPlays(plays: PreparedPlay[], options: RunOptions): Promise<void> {
  const runs = new Map<string, HostRun>();
  const forks = new Semaphore(options.forks);
  const changes = { made: false };
  /** Everything a host's plays read, and their probes tried once: its first round trip. */
  const readAhead = (host: string) => {
    const roles = plays.flatMap((play) => play.hosts.get(host) ?? []);
    const tasks = roles.flatMap((role) => selectedTasks(role, options));
    const handlers = roles.some((role) => Object.keys(role.handlers).length > 0);
    return [
      ...(handlers ? [pendingHandlersFact] : []),
      ...tasks.flatMap((op) => Object.values(op.facts)),
      ...(options.check ? [] : earlyProbes([...tasks, ...roles.flatMap((role) => role.verify.filter((op) => selectedByTags(op, options)))])),
    ];
  };
  const end = (host: string, run: HostRun, status: HostStatus, error?: string) =>
    options.emit({ type: "host-end", host, status, ...(error ? { error } : {}), roundTrips: run.session?.roundTrips ?? 0, ms: Date.now() - run.started });

  /** The index of each host's last play: its connection is released once that play is done with it. */
  const lastPlay = new Map(plays.flatMap((play, index) => [...play.hosts.keys()].map((host) => [host, index] as const)));

  /**
   * One host through one play: its facts in one round trip, its roles in order, handlers at the end.
   * `later`: the host's turn comes after other batches of a rolling play, so what it read ahead
   * (perhaps an hour ago) is read again.
   */
  async function runHost(host: string, play: PreparedPlay, index: number, later: boolean): Promise<void> {
    const roles = play.hosts.get(host)!;
    let run = runs.get(host);
    if (run?.stopped) return;
    if (!run) {
      runs.set(host, (run = { started: Date.now(), drift: { due: false }, start: { reached: !options.startAtTask }, failedChecks: { count: 0 }, stopped: false }));
      options.emit({ type: "host-start", host });
    }
    try {
      await playHost(host, play, roles, run, later);
    } finally {
      if (run.stopped || lastPlay.get(host) === index) release(run);
    }
  }

  async function playHost(host: string, play: PreparedPlay, roles: PreparedRole[], run: HostRun, later: boolean): Promise<void> {
    try {
      const first = !run.session;
      if (later) run.session?.invalidate();
      const session = (run.session ??= await options.connect(host));
      const notified = new Set<string>();
      const failedChecks = play.checksOnly ? run.failedChecks : undefined;
      const place = (role: PreparedRole): TaskPlace => ({
        session, play: play.name, role, handler: false, drift: run!.drift, notified, start: run!.start, failedChecks, changes,
        commits: [],
        ...(play.rollback && !options.check ? { undo: [] } : {}),
      });
      try {
        // Every fact the play's tasks declare, and the handlers a failed run left owed, in one round
        // trip; on the host's first play, those of all its plays and their probes too.
        const handlers = new Set(roles.flatMap((role) => Object.keys(role.handlers)));
        const facts = roles.flatMap((role) => selectedTasks(role, options)).flatMap((op) => Object.values(op.facts));
        await session.gather([...(first ? readAhead(host) : []), ...(handlers.size ? [pendingHandlersFact] : []), ...facts]);
        if (handlers.size) for (const name of session.value(pendingHandlersFact) ?? []) if (handlers.has(name)) notified.add(name);
        for (const role of roles) await runRole(place(role), roles, options);
      } catch (error) {
        if (options.forceHandlers && !(error instanceof ConnectionError)) await flushHandlers(roles.map(place), options).catch(() => undefined);
        throw error;
      }
      // Handlers of an earlier role notified by a later one run at the end of the play.
      await flushHandlers(roles.map(place), options);
    } catch (error) {
      run.stopped = true;
      // As in Ansible, a host that cannot be logged into (authentication, host key) is unreachable too.
      end(host, run, error instanceof ConnectionError ? "unreachable" : "failed", (error as Error).message);
    }
  }

  let stoppedRollout = false;
  /** `${play index} ${host}` for every host whose batch of that play ran. */
  const reached = new Set<string>();
  for (const [index, play] of plays.entries()) {
    // Batches and the failure budget count the hosts still in the play: a canary never lands on a host that already failed.
    const inPlay = [...play.hosts.keys()].filter((host) => !runs.get(host)?.stopped);
    for (const [number, batch] of batches(inPlay, play.serial).entries()) {
      batch.forEach((host) => reached.add(`${index} ${host}`));
      await Promise.all(batch.map((host) => forks.run(() => runHost(host, play, index, number > 0))));
      const failed = batch.filter((host) => runs.get(host)?.stopped).length;
      if (play.serial === undefined || !budgetSpent(failed, batch.length, play.maxFailPercentage)) continue;
      options.emit({ type: "warning", message: `rollout of play "${play.name}" stopped after batch ${number + 1}: ${failed} of its ${batch.length} hosts failed (budget ${play.maxFailPercentage ?? 0}%)` });
      stoppedRollout = true;
      break;
    }
    if (stoppedRollout) break;
  }
  // Hosts with work the stopped rollout never reached: untouched from that play on, and said so.
  const untouched = new Set<string>();
  if (stoppedRollout)
    for (const host of new Set(plays.flatMap((p) => [...p.hosts.keys()]))) {
      const run = runs.get(host);
      const from = plays.find((play, index) => play.hosts.has(host) && !reached.has(`${index} ${host}`));
      if (run?.stopped || !from) continue;
      untouched.add(host);
      const error = `from play "${from.name}" on`;
      if (run) end(host, run, "untouched", error);
      else options.emit({ type: "host-end", host, status: "untouched", error, roundTrips: 0, ms: 0 });
    }

  for (const [host, run] of runs) {
    if (run.stopped || untouched.has(host)) continue;
    const failed = run.failedChecks.count;
    end(host, run, failed ? "failed" : "ok", failed ? `${failed} check${failed > 1 ? "s" : ""} failed` : undefined);
  }
  runs.forEach(release);
}

/** Closes a host's connection (and with it its lock and keepalive timer) once its part of the run is done. */
function release(run: HostRun): void {
  if (run.released) return;
  run.session?.close();
  run.released = true;
}

const selectedTasks = (role: PreparedRole, options: RunOptions) => role.tasks.filter((op) => selectedByTags(op, options));

/** Runs, once each and in declaration order, the notified handlers these roles define. */
async function flushHandlers(places: TaskPlace[], options: RunOptions): Promise<void> {
  for (const place of places) {
    for (const [name, handler] of Object.entries(place.role.handlers)) {
      if (!place.notified.has(name)) continue;
      place.notified.delete(name);
      // Done, the handler is owed no more: said in its last command when it has one.
      const forgotten = await runTask({ ...place, handler: true }, { ...handler, name: `handler: ${name}` }, options, forgetHandler(name));
      if (!forgotten && !options.check) await runChecked(place.session, forgetHandler(name));
    }
  }
}

async function runRole(place: TaskPlace, playRoles: PreparedRole[], options: RunOptions): Promise<void> {
  try {
    await runRoleTasks(place, playRoles, options);
  } catch (error) {
    if (!place.undo?.length || error instanceof ConnectionError) throw error;
    await rollBack(place, options);
    throw error;
  }
  // Checked and healthy: what the changes kept for an undo goes (a replaced container, its image).
  for (const commit of place.commits.splice(0)) {
    const said = await runChecked(place.session, commit);
    if (said.trim()) options.emit({ type: "progress", host: place.session.name, role: place.role.name, task: "commit", message: said.trim() });
  }
}

/**
 * A role that failed in a play with `rollback`: its changes of this run are undone, newest first
 * (a file put back as it was or a created one removed, a replaced container swapped back), then
 * the handlers those changes notified run, so its services run as before on the old config.
 */
async function rollBack(place: TaskPlace, options: RunOptions): Promise<void> {
  const undone = place.undo!.splice(0).reverse();
  const what = undone.map((u) => ("file" in u ? u.file.path : u.task));
  const task = operation({ name: `rollback: ${what.join(", ")} put back as before this run`, facts: {}, plan: () => [] });
  const started = Date.now();
  try {
    for (const change of undone) {
      if ("file" in change) await place.session.restore(change.file);
      else {
        const said = (await runChecked(place.session, change.command)).trim();
        if (said) options.emit({ type: "progress", host: place.session.name, role: place.role.name, task: task.name, message: said });
      }
    }
    place.session.invalidate();
    options.emit(taskEvent(place, task, { status: "changed", check: false, changes: what.map((w) => `put back: ${w}`), diffs: [], ms: Date.now() - started }));
  } catch (error) {
    options.emit(taskEvent(place, task, { status: "failed", check: false, changes: [], diffs: [], ms: Date.now() - started, error: (error as Error).message }));
    return;
  }
  undone.forEach((change) => change.notify.forEach((handler) => place.notified.add(handler)));
  await flushHandlers([place], options).catch(() => undefined);
}

async function runRoleTasks(place: TaskPlace, playRoles: PreparedRole[], options: RunOptions): Promise<void> {
  const { session, role } = place;
  const tasks = selectedTasks(role, options);
  for (const op of role.tasks) {
    if (!place.start.reached) {
      if (op.name !== options.startAtTask) continue;
      place.start.reached = true;
    }
    if (op === FLUSH_HANDLERS) {
      // Every handler notified so far, whichever role of the play defines it.
      await flushHandlers(playRoles.map((r) => ({ ...place, role: r })), options);
      continue;
    }
    if (!tasks.includes(op)) {
      options.emit(taskEvent(place, op, { status: "skipped", check: options.check, changes: [], diffs: [], ms: 0 }));
      continue;
    }
    // After a change the cache is empty: one round trip reads again what the rest of the role needs.
    await session.gather(tasks.slice(tasks.indexOf(op)).flatMap((t) => Object.values(t.facts)));
    // A change that notifies handlers records them on the host in its last command (see pending-handlers).
    const changed = await runTask(place, op, options, op.notify?.length ? rememberHandlers(op.notify) : undefined);
    if (changed) op.notify?.forEach((handler) => place.notified.add(handler));
  }
  await flushHandlers([place], options);
  if (!place.start.reached) return;
  for (const probe of role.verify.filter((op) => selectedByTags(op, options))) {
    const checked = runTask(place, { ...probe, name: `verify: ${probe.name}` }, options);
    if (!place.failedChecks) await checked;
    // A report wants every check: a failed one is counted (and reported) and the next one runs.
    else await checked.catch((error: unknown) => (error instanceof ConnectionError ? Promise.reject(error) : void place.failedChecks!.count++));
  }
}

/**
 * Plans one operation against the host's facts and applies (or, in check mode, reports) its steps.
 * `epilogue`, a command of the runner's own, runs right after the last change, in the same exec
 * when that is a command or a file write; returns whether anything changed (and the epilogue ran).
 */
async function runTask(place: TaskPlace, op: Operation, options: RunOptions, epilogue?: string): Promise<boolean> {
  const { session } = place;
  const started = Date.now();
  let changes: Step[] = [];
  const evidence: string[] = [];
  const emit = (status: TaskStatus, diffs: string[] = [], error?: string) =>
    options.emit(
      taskEvent(place, op, {
        status,
        check: options.check,
        changes: changes.map(describeStep),
        diffs,
        ms: Date.now() - started,
        ...(evidence.length ? { evidence: evidence.join("\n") } : {}),
        ...(error ? { error } : {}),
      }),
    );
  try {
    await session.gather(Object.values(op.facts));
    const values = Object.fromEntries(Object.entries(op.facts).map(([name, fact]) => [name, session.value(fact)]));
    const steps = op.plan(values);
    changes = steps.filter(isChange);
    for (const warning of op.warnings?.(values) ?? []) options.emit({ type: "warning", message: `[${session.name}] ${warning}` });
    const diffs = options.diff ? await fileDiffs(session, changes, options) : [];
    if (options.check) {
      // What the real run would refuse is a failure here too: a new file that its validator rejects
      // (once the host is otherwise as wanted: before earlier changes, the validator may not be there yet).
      for (const step of place.drift.due ? [] : changes) {
        if (step.kind !== "write" || !step.validate) continue;
        const refused = await session.validate(step);
        if (refused) throw new Error(`${step.path}: ${refused}`);
      }
      // A probe proves a live state: in check mode nothing was changed for it to prove.
      emit(changes.length ? "changed" : steps.length ? "skipped" : "ok", diffs);
      if (changes.length) place.drift.due = true;
      return changes.length > 0;
    }
    const progress = (message: string) => options.emit({ type: "progress", host: session.name, role: place.role.name, task: oneLine(op.name), message });
    const applied = epilogue ? withEpilogue(steps, epilogue) : steps;
    for (const step of applied) {
      if (step.kind === "run" && step.announce) progress(step.announce);
      const early = step.kind === "probe" && !place.changes.made ? session.known(earlyProbeFact(step)) : undefined;
      if (early?.passed) {
        evidence.push(early.output.slice(-EVIDENCE_CHARS));
        continue;
      }
      const seen = await applyStep(place, op, step);
      if (seen && (step.kind === "probe" || step.kind === "local")) evidence.push(seen);
      else if (seen) progress(seen);
    }
    if (changes.length) {
      if (epilogue && applied === steps) await runChecked(session, epilogue);
      session.invalidate();
      place.changes.made = true;
      if (op.commit) place.commits.push(op.commit);
      if (op.undo) place.undo?.push({ command: op.undo, task: op.name, notify: op.notify ?? [] });
    }
    emit(changes.length ? "changed" : "ok", diffs);
    return changes.length > 0;
  } catch (error) {
    // A lost connection is the host's failure, not this task's: it is reported once, as unreachable.
    if (error instanceof ConnectionError) throw error;
    if (options.check && place.drift.due && error instanceof NotYetPlannable) {
      // On a host that is not there yet (no package, so no unit), a task may be unplannable
      // until earlier changes are made: that is drift to report, not a failure.
      changes = [];
      options.emit(taskEvent(place, op, { status: "changed", check: true, changes: [`(cannot be planned before the changes above: ${(error as Error).message})`], diffs: [], ms: Date.now() - started }));
      return true;
    }
    emit("failed", [], (error as Error).message);
    throw error;
  }
}

/** The steps with `command` added to their last change, when that is a command or a file write; else the steps unchanged. */
function withEpilogue(steps: Step[], command: string): Step[] {
  const last = steps.map(isChange).lastIndexOf(true);
  const step = steps[last];
  const replaced =
    step?.kind === "write" ? { ...step, then: step.then ? `${step.then}\n${command}` : command } : step?.kind === "run" ? { ...step, command: `{ ${step.command}\n} && ${command}` } : undefined;
  return replaced ? steps.map((s, i) => (i === last ? replaced : s)) : steps;
}

/** Makes a step happen; a probe returns what it saw (its evidence), an announced step its output. */
async function applyStep(place: TaskPlace, op: Operation, step: Step): Promise<string | undefined> {
  const { session } = place;
  if (step.kind === "write") {
    const undoable = (backup?: string) => place.undo?.push({ file: { path: step.path, ...(backup ? { backup } : {}) }, notify: op.notify ?? [] });
    try {
      undoable((await session.write(step)).backup);
    } catch (error) {
      if (error instanceof InstalledButFailedError) undoable(error.backup);
      throw error;
    }
    return undefined;
  }
  if (step.kind === "upload") return void (await session.upload(step));
  if (step.kind === "guarded") return void (await applyGuarded(session, step));
  if (step.kind === "local")
    return step.run(session).catch((error: Error) => {
      if (error instanceof ConnectionError) throw error;
      throw new Error(`${step.failure}: ${error.message}`);
    });
  const timeoutSeconds = (step.kind === "run" && step.timeoutSeconds) || op.timeoutSeconds;
  const output = await runChecked(session, step.command, step.kind === "probe" ? step.failure : undefined, timeoutSeconds);
  return step.kind === "probe" || step.announce ? output : undefined;
}

const describeStep = (step: Step) =>
  step.kind === "write" || step.kind === "upload"
    ? `${step.kind} ${step.path} (mode ${octalMode(step.mode)}, ${step.owner}:${step.group})`
    : step.kind === "guarded"
      ? `$ ${step.apply} (guarded: undone by the host after ${step.rollbackSeconds} s unless a new SSH connection succeeds)`
      : step.kind === "local"
        ? "(a check made on the controller)"
        : `$ ${step.command}`;

const EVIDENCE_CHARS = 2000;

/** Runs a command; a non-zero exit fails the task with its last lines of output. Returns its output (the end of it). */
async function runChecked(session: Session, command: string, failure?: string, timeoutSeconds?: number): Promise<string> {
  const result = await session.run(command, timeoutSeconds);
  if (result.code === 0) return (result.stdout + result.stderr).trim().slice(-EVIDENCE_CHARS);
  const output = (result.stderr.trim() || result.stdout.trim()).split("\n").slice(-5).join("\n");
  throw new Error(`${failure ?? `exit ${result.code}`}: ${output}`);
}

async function applyGuarded(session: Session, step: GuardedStep): Promise<void> {
  const armed = Date.now();
  await runChecked(session, step.arm);
  await runChecked(session, step.apply);
  const reachable = () => session.confirmNewConnection().then(() => undefined, (error: Error) => error);
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

/** For --diff: each file a change writes, its content on the host against the wanted one. */
async function fileDiffs(session: Session, changes: Step[], options: RunOptions): Promise<string[]> {
  const writes = changes.filter((s) => s.kind === "write");
  await session.gather(writes.map((w) => fileFact(w.path, true)));
  return writes.map((w) => {
    const current = session.value(fileFact(w.path, true)).content ?? "";
    const wanted = typeof w.content === "string" ? w.content : isUtf8(w.content) && !w.content.includes(0) ? w.content.toString("utf8") : undefined;
    if (wanted === undefined) return `${w.path}: binary content, ${(w.content as Buffer).length} bytes wanted`;
    return lineDiff(current, wanted, w.path, options.holdsSecret?.(wanted) ? { hideRemoved: MASK } : {});
  });
}

function taskEvent(place: TaskPlace, op: Operation, outcome: Pick<TaskEvent, "status" | "check" | "changes" | "diffs" | "ms" | "error">): TaskEvent {
  return { type: "task", host: place.session.name, play: place.play, role: place.role.name, task: oneLine(op.name), handler: place.handler, ...outcome };
}

/** A name on one line whatever it holds (a path may hold a newline): control characters as JSON escapes them. */
const oneLine = (name: string) => name.replace(/[\u0000-\u001f\u007f]/g, (c) => JSON.stringify(c).slice(1, -1));
