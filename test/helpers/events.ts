/** A task's event as the engine emits it, for tests of what reads events (reports, metrics). */
import type { TaskEvent } from "../../src/engine/events.js";

export const taskEvent = (fields: Pick<TaskEvent, "task" | "status"> & Partial<TaskEvent>): TaskEvent => ({
  type: "task",
  host: "h1",
  play: "p",
  role: "web",
  handler: false,
  check: false,
  changes: [],
  diffs: [],
  ms: 1,
  ...fields,
});
