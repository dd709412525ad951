import type { FactValues } from "../facts/fact.js";
import { containerFact } from "../facts/probe.js";
import { sysctlFact } from "../facts/sysctl.js";
import { sh } from "../common/shell.js";
import { file } from "./files.js";
import { operation, taskOptions, type Operation, type TaskOptions } from "./operation.js";

export interface SysctlArgs extends TaskOptions {
  key: string;
  value: string | number;
  /**
   * Set the live value too. "unless-container": not in a container, whose network namespace
   * refuses keys such as net.core.rmem_max (they belong to the host's initial namespace).
   */
  apply?: boolean | "unless-container";
}

/**
 * A kernel parameter persisted in /etc/sysctl.d and, unless told otherwise, applied now.
 * @example sysctl({ key: "net.core.rmem_max", value: 7500000, notify: ["restart livekit"] })
 */
export function sysctl(args: SysctlArgs): Operation {
  const value = String(args.value).trim().split(/\s+/).join(" ");
  const persisted = file({ path: `/etc/sysctl.d/90-rigger-${args.key}.conf`, content: `${args.key} = ${value}\n` });
  const apply = args.apply ?? true;
  return operation({
    name: args.name ?? `sysctl ${args.key} = ${value}`,
    facts: {
      ...persisted.facts,
      live: sysctlFact(args.key),
      ...(apply === "unless-container" ? { container: containerFact } : {}),
    },
    plan: (facts: FactValues<typeof persisted.facts> & { live: string | undefined; container?: boolean }) => {
      const steps = persisted.plan(facts);
      const applies = apply === true || (apply === "unless-container" && !facts.container);
      if (applies && facts.live !== value)
        steps.push({ kind: "run", command: sh`sysctl -q -w ${`${args.key}=${value}`}` });
      return steps;
    },
    ...taskOptions(args),
  });
}
