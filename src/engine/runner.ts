import { ConnectionError } from "../connection/errors.js";
import { Semaphore } from "../connection/semaphore.js";
import { earlyProbes } from "./early-probes.js";
import type { HostStatus } from "./events.js";
import { pendingHandlersFact } from "./pending-handlers.js";
import type { PreparedPlay, PreparedRole } from "./prepare.js";
import { batches, budgetSpent } from "./rollout.js";
import type { RunOptions, Session } from "./run-contract.js";
import { flushHandlers, runRole, selectedTasks } from "./run-role.js";
import type { HostState, RunState, TaskPlace } from "./run-task.js";
import { selectedByTags } from "./tag-selection.js";

/** A host's side of the run, across plays. */
interface HostRun {
  started: number;
  session?: Session;
  state: HostState;
  /** Set once the host failed or became unreachable: later plays skip it. */
  stopped: boolean;
  /** Its connection is closed: its part of the run is done. */
  released?: boolean;
}

/** What every host of a run shares: the plays, the options, each host's run, the fork limit. */
interface Run {
  plays: PreparedPlay[];
  options: RunOptions;
  hosts: Map<string, HostRun>;
  forks: Semaphore;
  state: RunState;
  /** The index of each host's last play: its connection is released once that play is done with it. */
  lastPlay: Map<string, number>;
}

/** Runs prepared plays: hosts in parallel (up to `forks`, in batches when a play has `serial`), each through its roles in order. */
export async function runPlays(plays: PreparedPlay[], options: RunOptions): Promise<void> {
  const run: Run = {
    plays,
    options,
    hosts: new Map(),
    forks: new Semaphore(options.forks),
    state: { changed: false },
    lastPlay: new Map(plays.flatMap((play, index) => [...play.hosts.keys()].map((host) => [host, index] as const))),
  };
  let stoppedRollout = false;
  /** `${play index} ${host}` for every host whose batch of that play ran. */
  const reached = new Set<string>();
  for (const [index, play] of plays.entries()) {
    // Batches and the failure budget count the hosts still in the play: a canary never lands on a host that already failed.
    const inPlay = [...play.hosts.keys()].filter((host) => !run.hosts.get(host)?.stopped);
    for (const [number, batch] of batches(inPlay, play.serial).entries()) {
      batch.forEach((host) => reached.add(`${index} ${host}`));
      await Promise.all(batch.map((host) => run.forks.run(() => runHost(run, host, play, index, number > 0))));
      const failed = batch.filter((host) => run.hosts.get(host)?.stopped).length;
      if (play.serial === undefined || !budgetSpent(failed, batch.length, play.maxFailPercentage)) continue;
      options.emit({
        type: "warning",
        message: `rollout of play "${play.name}" stopped after batch ${number + 1}: ${failed} of its ${batch.length} hosts failed (budget ${play.maxFailPercentage ?? 0}%)`,
      });
      stoppedRollout = true;
      break;
    }
    if (stoppedRollout) break;
  }
  const untouched = stoppedRollout ? sayUntouched(run, reached) : new Set<string>();
  for (const [host, hostRun] of run.hosts) {
    if (hostRun.stopped || untouched.has(host)) continue;
    const failed = hostRun.state.failedChecks;
    end(
      run,
      host,
      hostRun,
      failed ? "failed" : "ok",
      failed ? `${failed} check${failed > 1 ? "s" : ""} failed` : undefined,
    );
  }
  run.hosts.forEach(release);
}

/** Hosts with work a stopped rollout never reached: untouched from that play on, and said so. */
function sayUntouched(run: Run, reached: Set<string>): Set<string> {
  const untouched = new Set<string>();
  for (const host of new Set(run.plays.flatMap((p) => [...p.hosts.keys()]))) {
    const hostRun = run.hosts.get(host);
    const from = run.plays.find((play, index) => play.hosts.has(host) && !reached.has(`${index} ${host}`));
    if (hostRun?.stopped || !from) continue;
    untouched.add(host);
    const error = `from play "${from.name}" on`;
    if (hostRun) end(run, host, hostRun, "untouched", error);
    else run.options.emit({ type: "host-end", host, status: "untouched", error, roundTrips: 0, ms: 0 });
  }
  return untouched;
}

function end(run: Run, host: string, hostRun: HostRun, status: HostStatus, error?: string): void {
  run.options.emit({
    type: "host-end",
    host,
    status,
    ...(error ? { error } : {}),
    roundTrips: hostRun.session?.roundTrips ?? 0,
    ms: Date.now() - hostRun.started,
  });
}

/**
 * One host through one play. `later`: the host's turn comes after other batches of a rolling play,
 * so what it read ahead (perhaps an hour ago) is read again.
 */
async function runHost(run: Run, host: string, play: PreparedPlay, index: number, later: boolean): Promise<void> {
  let hostRun = run.hosts.get(host);
  if (hostRun?.stopped) return;
  if (!hostRun) {
    hostRun = {
      started: Date.now(),
      state: { drift: false, reached: !run.options.startAtTask, failedChecks: 0 },
      stopped: false,
    };
    run.hosts.set(host, hostRun);
    run.options.emit({ type: "host-start", host });
  }
  try {
    await playHost(run, host, play, hostRun, later);
  } catch (error) {
    hostRun.stopped = true;
    // As in Ansible, a host that cannot be logged into (authentication, host key) is unreachable too.
    end(run, host, hostRun, error instanceof ConnectionError ? "unreachable" : "failed", (error as Error).message);
  } finally {
    if (hostRun.stopped || run.lastPlay.get(host) === index) await release(hostRun);
  }
}

/** The host's facts for the play in one round trip (on its first play, those of all its plays and their probes too), its roles in order, handlers at the end. */
async function playHost(run: Run, host: string, play: PreparedPlay, hostRun: HostRun, later: boolean): Promise<void> {
  const { options } = run;
  const roles = play.hosts.get(host)!;
  const first = !hostRun.session;
  if (later) hostRun.session?.invalidate();
  const session = (hostRun.session ??= await options.connect(host));
  const notified = new Set<string>();
  const place = (role: PreparedRole): TaskPlace => ({
    session,
    host: hostRun.state,
    run: run.state,
    play: play.name,
    role,
    handler: false,
    notified,
    checksOnly: play.checksOnly ?? false,
    commits: [],
    ...(play.rollback && !options.check ? { undo: [] } : {}),
  });
  try {
    // The handlers a failed run left owed are read with the facts.
    const handlers = new Set(roles.flatMap((role) => Object.keys(role.handlers)));
    const facts = roles.flatMap((role) => selectedTasks(role, options)).flatMap((op) => Object.values(op.facts));
    await session.gather([
      ...(first ? readAhead(run, host) : []),
      ...(handlers.size ? [pendingHandlersFact] : []),
      ...facts,
    ]);
    if (handlers.size)
      for (const name of session.value(pendingHandlersFact) ?? []) if (handlers.has(name)) notified.add(name);
    for (const role of roles) await runRole(place(role), roles, options);
  } catch (error) {
    if (options.forceHandlers && !(error instanceof ConnectionError))
      await flushHandlers(roles.map(place), options).catch(() => undefined);
    throw error;
  }
  // Handlers of an earlier role notified by a later one run at the end of the play.
  await flushHandlers(roles.map(place), options);
}

/** Everything a host's plays read, and their probes tried once: its first round trip. */
function readAhead(run: Run, host: string) {
  const { options } = run;
  const roles = run.plays.flatMap((play) => play.hosts.get(host) ?? []);
  const tasks = roles.flatMap((role) => selectedTasks(role, options));
  const handlers = roles.some((role) => Object.keys(role.handlers).length > 0);
  return [
    ...(handlers ? [pendingHandlersFact] : []),
    ...tasks.flatMap((op) => Object.values(op.facts)),
    ...(options.check
      ? []
      : earlyProbes([...tasks, ...roles.flatMap((role) => role.verify.filter((op) => selectedByTags(op, options)))])),
  ];
}

/** Closes a host's connection (and with it its lock and keepalive timer) once its part of the run is done. */
async function release(hostRun: HostRun): Promise<void> {
  if (hostRun.released) return;
  hostRun.released = true;
  await hostRun.session?.close();
}
