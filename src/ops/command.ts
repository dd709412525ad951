import { fileFact } from "../facts/file.js";
import { succeedsFact } from "../facts/probe.js";
import { operation, taskOptions, type Operation, type TaskOptions } from "./operation.js";

export interface CommandArgs extends TaskOptions {
  run: string;
  /** Skip when this path exists. */
  creates?: string;
  /** Skip when this command succeeds. */
  unless?: string;
}

/**
 * A command; without a guard it runs every time and honestly reports a change every time.
 * @example command({ run: "curl -fsSL https://example.org/key.gpg -o /etc/apt/keyrings/x.gpg", creates: "/etc/apt/keyrings/x.gpg" })
 */
export function command(args: CommandArgs): Operation {
  const facts = {
    ...(args.creates ? { created: fileFact(args.creates) } : {}),
    ...(args.unless ? { satisfied: succeedsFact(args.unless) } : {}),
  };
  return operation({
    name: args.name ?? `command ${args.run}`,
    facts,
    plan: (values: { created?: { exists: boolean }; satisfied?: boolean }) =>
      values.created?.exists || values.satisfied ? [] : [{ kind: "run", command: args.run }],
    ...taskOptions(args),
  });
}
