import { sysctlFact } from "../facts/sysctl.js";
import { sh } from "../engine/shell.js";
import { file } from "./files.js";
import { operation, taskOptions, type Operation, type TaskOptions } from "./operation.js";

export interface SysctlArgs extends TaskOptions {
  key: string;
  value: string | number;
  /** Set the live value too (off where the kernel refuses it, e.g. some keys in a container). */
  apply?: boolean;
}

/** A kernel parameter persisted in /etc/sysctl.d and, unless told otherwise, applied now. */
export function sysctl(args: SysctlArgs): Operation {
  const value = String(args.value).trim().split(/\s+/).join(" ");
  const persisted = file({ path: `/etc/sysctl.d/90-rigger-${args.key}.conf`, content: `${args.key} = ${value}\n` });
  const apply = args.apply ?? true;
  return operation({
    name: args.name ?? `sysctl ${args.key} = ${value}`,
    facts: { ...persisted.facts, live: sysctlFact(args.key) },
    plan: (facts) => {
      const steps = persisted.plan(facts);
      if (apply && facts.live !== value) steps.push({ kind: "run", command: sh`sysctl -q -w ${`${args.key}=${value}`}` });
      return steps;
    },
    ...taskOptions(args),
  });
}
