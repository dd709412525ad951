import { ConnectionError } from "../connection/errors.js";
import { FLUSH_HANDLERS, operation } from "../ops/operation.js";
import { forgetHandler, rememberHandlers } from "./pending-handlers.js";
import type { PreparedRole } from "./prepare.js";
import type { RunOptions } from "./run-contract.js";
import { runChecked } from "./run-steps.js";
import { runTask, taskEvent, type TaskPlace } from "./run-task.js";
import { selectedByTags } from "./tag-selection.js";

/** The role's tasks that -t and --skip-tags leave in the run. */
export const selectedTasks = (role: PreparedRole, options: RunOptions) =>
  role.tasks.filter((op) => selectedByTags(op, options));

/**
 * One role on one host: its tasks, its notified handlers, its checks. In a play with rollback, a
 * role that fails has its changes of this run undone; one that passes lets go of what they kept.
 */
export async function runRole(place: TaskPlace, playRoles: PreparedRole[], options: RunOptions): Promise<void> {
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
    if (said.trim())
      options.emit({
        type: "progress",
        host: place.session.name,
        role: place.role.name,
        task: "commit",
        message: said.trim(),
      });
  }
}

/** Runs, once each and in declaration order, the notified handlers these roles define. */
export async function flushHandlers(places: TaskPlace[], options: RunOptions): Promise<void> {
  for (const place of places) {
    for (const [name, handler] of Object.entries(place.role.handlers)) {
      if (!place.notified.has(name)) continue;
      place.notified.delete(name);
      // Done, the handler is owed no more: said in its last command when it has one.
      const forgotten = await runTask(
        { ...place, handler: true },
        { ...handler, name: `handler: ${name}` },
        options,
        forgetHandler(name),
      );
      if (!forgotten && !options.check) await runChecked(place.session, forgetHandler(name));
    }
  }
}

async function runRoleTasks(place: TaskPlace, playRoles: PreparedRole[], options: RunOptions): Promise<void> {
  const { session, role } = place;
  const tasks = selectedTasks(role, options);
  for (const op of role.tasks) {
    if (!place.host.reached) {
      if (op.name !== options.startAtTask) continue;
      place.host.reached = true;
    }
    if (op === FLUSH_HANDLERS) {
      // Every handler notified so far, whichever role of the play defines it.
      await flushHandlers(
        playRoles.map((r) => ({ ...place, role: r })),
        options,
      );
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
  if (!place.host.reached) return;
  for (const probe of role.verify.filter((op) => selectedByTags(op, options))) {
    const checked = runTask(place, { ...probe, name: `verify: ${probe.name}` }, options);
    if (!place.checksOnly) await checked;
    // A report wants every check: a failed one is counted (and reported) and the next one runs.
    else
      await checked.catch((error: unknown) =>
        error instanceof ConnectionError ? Promise.reject(error) : void place.host.failedChecks++,
      );
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
  const task = operation({
    name: `rollback: ${what.join(", ")} put back as before this run`,
    facts: {},
    plan: () => [],
  });
  const started = Date.now();
  try {
    for (const change of undone) {
      if ("file" in change) await place.session.restore(change.file);
      else {
        const said = (await runChecked(place.session, change.command)).trim();
        if (said)
          options.emit({
            type: "progress",
            host: place.session.name,
            role: place.role.name,
            task: task.name,
            message: said,
          });
      }
    }
    place.session.invalidate();
    options.emit(
      taskEvent(place, task, {
        status: "changed",
        check: false,
        changes: what.map((w) => `put back: ${w}`),
        diffs: [],
        ms: Date.now() - started,
      }),
    );
  } catch (error) {
    options.emit(
      taskEvent(place, task, {
        status: "failed",
        check: false,
        changes: [],
        diffs: [],
        ms: Date.now() - started,
        error: (error as Error).message,
      }),
    );
    return;
  }
  undone.forEach((change) => change.notify.forEach((handler) => place.notified.add(handler)));
  await flushHandlers([place], options).catch(() => undefined);
}
