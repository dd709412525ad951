import { closeSync, openSync, rmSync, statSync, writeSync } from "node:fs";

const STALE_MS = 60_000;
const pause = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Runs `work` (sync or async) holding `${path}.lock`, a file created exclusively (two processes on this machine,
 * one at a time). A lock left for a minute by a process that died is taken over; one held longer
 * than `waitMs` by a live one is an error naming it.
 */
export function withFileLock<T>(path: string, work: () => T, waitMs = 10_000): T {
  const lock = `${path}.lock`;
  const deadline = Date.now() + waitMs;
  for (;;) {
    try {
      const fd = openSync(lock, "wx", 0o600);
      writeSync(fd, `${process.pid}\n`);
      closeSync(fd);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const age = Date.now() - statSync(lock, { throwIfNoEntry: false })!.mtimeMs;
      if (age > STALE_MS) rmSync(lock, { force: true });
      else if (Date.now() > deadline)
        throw new Error(
          `${lock} is held by another run; try again when it has finished (or remove the file if no run is going)`,
        );
      else pause(50);
    }
  }
  const release = () => rmSync(lock, { force: true });
  let result: T;
  try {
    result = work();
  } catch (error) {
    release();
    throw error;
  }
  // Async work holds the lock until it settles.
  if (result instanceof Promise) return result.finally(release) as T;
  release();
  return result;
}
