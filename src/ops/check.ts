import { operation, taskOptions, type Operation, type TaskOptions } from "./operation.js";

export interface CheckArgs extends TaskOptions {
  name: string;
  /** Succeeds when the state is as it should be. */
  command: string;
  failure: string;
}

/** A read-only health probe: a command that must succeed (never a change; skipped in check mode). */
export function check(args: CheckArgs): Operation {
  return operation({ name: args.name, facts: {}, plan: () => [{ kind: "probe", command: args.command, failure: args.failure }], ...taskOptions(args) });
}
