import { defineFact } from "../facts/fact.js";
import { sh } from "../common/shell.js";
import { firewallRules, portText, rulesText, type PortRule } from "../common/ports.js";
import { sshServedPortFact } from "../facts/ssh-port.js";
import { operation, taskOptions, type Operation, type Step, type TaskOptions } from "./operation.js";

export interface UfwState {
  active: boolean;
  denyIncoming: boolean;
  /** The rules as `ufw show added` lists them, e.g. `allow 22/tcp`. */
  added: string[];
}

export const ufwFact = defineFact<UfwState>(
  "ufw",
  "LC_ALL=C ufw status verbose; echo ---; LC_ALL=C ufw show added",
  (stdout) => {
    const [status = "", added = ""] = stdout.split("\n---\n");
    return {
      active: /^Status: active/m.test(status),
      denyIncoming: /^Default: deny \(incoming\)/m.test(status),
      added: added
        .split("\n")
        .filter((l) => l.startsWith("ufw "))
        .map((l) => l.slice(4).trim()),
    };
  },
);

export interface UfwArgs extends TaskOptions {
  /** Unset: the port sshd serves this run on, as the host sees it. */
  sshPort?: number;
  rules: PortRule[];
}

/**
 * ufw for hosts that already use it: the SSH rule first, missing rules added, others removed, then enabled.
 * @example ufwFirewall({ rules: context.ports })
 */
export function ufwFirewall(args: UfwArgs): Operation {
  return operation({
    name: args.name ?? `ufw: ${rulesText(args.sshPort, args.rules, ":")}`,
    facts: { ufw: ufwFact, sshPort: sshServedPortFact },
    plan: ({ ufw, sshPort }) => {
      const wanted = firewallRules(args.sshPort ?? sshPort, args.rules).map(
        (r) => `allow ${portText(r, ":")}/${r.protocol}`,
      );
      const steps: Step[] = wanted
        .filter((w) => !ufw.added.includes(w))
        .map((w) => ({ kind: "run", command: `ufw ${sh`${w.split(" ")}`}` }));
      const ssh = wanted[0]!;
      for (const extra of ufw.added.filter((a) => !wanted.includes(a) && a !== ssh))
        steps.push({ kind: "run", command: `ufw delete ${sh`${extra.split(" ")}`}` });
      if (!ufw.denyIncoming) steps.push({ kind: "run", command: "ufw default deny incoming" });
      if (!ufw.active) steps.push({ kind: "run", command: "ufw --force enable" });
      return steps;
    },
    ...taskOptions(args),
  });
}
