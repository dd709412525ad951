import { defineFact, type Fact } from "./fact.js";

/** Whether a shell command succeeds on the host (the `unless` guard of a command). */
export function succeedsFact(command: string): Fact<boolean> {
  return defineFact(`succeeds:${command}`, command, (_stdout, code) => code === 0);
}

/** Whether this host is a container (its kernel parameters of the network namespace are read-only then). */
export const containerFact: Fact<boolean> = defineFact(
  "container",
  "systemd-detect-virt --container",
  (_stdout, code) => code === 0,
);
