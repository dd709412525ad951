import {
  operation,
  taskOptions,
  type HostAccess,
  type Measure,
  type Observation,
  type Operation,
  type ProbeStep,
  type TaskOptions,
} from "./operation.js";

export interface CheckArgs extends TaskOptions {
  name: string;
  /** Succeeds when the state is as it should be; what it prints is the check's evidence. */
  command: string;
  failure: string;
  /** Try again, once a second, for up to this long (a service still starting); by default once. */
  timeoutSeconds?: number;
  /** A command that waits by itself: the same check tried once, without waiting. */
  once?: string;
  /** See ProbeStep.family. */
  family?: ProbeStep["family"];
  /** The number its last line of output is, as a metric (see Operation.measure). */
  measure?: Measure;
}

/** Runs a command until it succeeds or the time is up; the last attempt's output is what fails the task. */
const retried = (command: string, seconds: number) =>
  `deadline=$(($(date +%s) + ${seconds})); until last=$( ( ${command} ) 2>&1 ); do ` +
  `if [ "$(date +%s)" -ge "$deadline" ]; then printf '%s\\n' "$last" >&2; exit 1; fi; sleep 1; done; printf '%s\\n' "$last"`;

/**
 * A read-only health probe: a command that must succeed (never a change; skipped in check mode).
 * @example check({ name: "redis answers", command: "redis-cli ping | grep -q PONG", failure: "redis does not answer" })
 */
export function check(args: CheckArgs): Operation {
  const command = args.timeoutSeconds ? retried(args.command, args.timeoutSeconds) : args.command;
  const once = args.once ?? (args.timeoutSeconds ? args.command : undefined);
  return operation({
    name: args.name,
    facts: {},
    plan: () => [
      {
        kind: "probe",
        command,
        failure: args.failure,
        ...(once ? { once } : {}),
        ...(args.family ? { family: args.family } : {}),
      },
    ],
    ...taskOptions(args),
    ...(args.measure ? { measure: args.measure } : {}),
  });
}

/**
 * A check made on the controller (see LocalProbeStep): `run` returns the evidence, or throws why it failed.
 * @example localCheck({ name: "the backup fetched here", run: (host) => fetchLatest(host), failure: "the backup could not be fetched" })
 */
export function localCheck(args: {
  name: string;
  failure: string;
  run: (host: HostAccess) => Promise<string | Observation>;
  tags?: string[];
}): Operation {
  return operation({
    name: args.name,
    facts: {},
    plan: () => [{ kind: "local", run: args.run, failure: args.failure }],
    ...taskOptions(args),
  });
}
