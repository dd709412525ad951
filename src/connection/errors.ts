/** Why a host could not be used; the CLI maps these to exit codes and the recap's columns. */
export type ConnectionFailure = "unreachable" | "authentication" | "host-key";

export class ConnectionError extends Error {
  constructor(
    readonly failure: ConnectionFailure,
    readonly host: string,
    message: string,
  ) {
    super(message);
    this.name = "ConnectionError";
  }
}

export class UnreachableError extends ConnectionError {
  constructor(host: string, reason: string) {
    super("unreachable", host, `${host} is unreachable: ${reason}`);
    this.name = "UnreachableError";
  }
}

export class AuthenticationError extends ConnectionError {
  constructor(host: string, user: string, reason: string) {
    super("authentication", host, `${host}: authentication failed for user ${user}: ${reason}`);
    this.name = "AuthenticationError";
  }
}

export class HostKeyError extends ConnectionError {
  constructor(
    host: string,
    message: string,
    readonly presented: string,
    readonly expected: string[],
  ) {
    super("host-key", host, message);
    this.name = "HostKeyError";
  }
}

/** A command that ran past its time limit: killed, and its task failed (the connection is fine). */
export class CommandTimeoutError extends Error {
  constructor(readonly timeoutMs: number) {
    super(`still running after ${timeoutMs / 1000} s: killed`);
    this.name = "CommandTimeoutError";
  }
}
