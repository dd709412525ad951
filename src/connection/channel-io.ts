/** What rides on a connection's socket and channels: its liveness, and a command's output and exit code. */
import type { Duplex } from "node:stream";
import type { ClientChannel } from "ssh2";
import { CommandTimeoutError } from "./errors.js";

export interface ExecResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Declares the connection dead after interval x count of silence, any packet from the host (data,
 * a window adjustment, an answer to a keepalive) counting as life. Stops with the socket.
 */
export function watchLiveness(
  sock: Duplex,
  intervalMs: number,
  countMax: number,
  dead: (reason: string) => void,
): void {
  let heard = Date.now();
  sock.on("data", () => (heard = Date.now()));
  const limitMs = intervalMs * countMax;
  const timer = setInterval(
    () => {
      if (Date.now() - heard < limitMs) return;
      clearInterval(timer);
      dead(
        `nothing heard from it for ${limitMs / 1000} s (a keepalive every ${intervalMs / 1000} s, ${countMax} unanswered)`,
      );
    },
    Math.min(intervalMs, 1000),
  );
  timer.unref();
  sock.once("close", () => clearInterval(timer));
}

/** A command's output and exit code, or its time limit passed (the command killed on the host). */
export function collect(
  channel: ClientChannel,
  input: string | Buffer | undefined,
  timeoutMs: number | undefined,
): Promise<ExecResult | CommandTimeoutError> {
  return new Promise((resolve) => {
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    let code = -1;
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            channel.signal("KILL");
            channel.close();
            resolve(new CommandTimeoutError(timeoutMs));
          }, timeoutMs);
    channel.on("data", (chunk: Buffer) => stdout.push(chunk));
    channel.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
    channel.on("exit", (exitCode: number | null) => (code = exitCode ?? -1));
    channel.on("close", () => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(stdout).toString(), stderr: Buffer.concat(stderr).toString() });
    });
    channel.end(input);
  });
}
