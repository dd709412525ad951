/**
 * Read-only probes read ahead with the facts: each tried once (without its waiting), under a short
 * time limit, in the host's first round trip. While nothing in the run has changed, a probe that
 * passed there is not run again; one that failed, and every probe after a change, runs as declared.
 * So a run that changes nothing costs one round trip per host, its checks included.
 */
import { sh } from "../common/shell.js";
import { defineFact, type Fact, type FactFamily } from "../facts/fact.js";
import type { Operation, ProbeStep } from "../ops/operation.js";

export interface EarlyResult {
  passed: boolean;
  output: string;
}

const LIMIT_SECONDS = 10;

const limited = (command: string) => sh`timeout ${LIMIT_SECONDS} sh -c ${command}`;

/** A family's command under the same limit; one wrapper a family, as a batch groups its members by it. */
const limitedFamilies = new WeakMap<FactFamily, FactFamily>();
function limitedFamily(family: FactFamily): FactFamily {
  if (!limitedFamilies.has(family))
    limitedFamilies.set(family, { command: (members) => limited(family.command(members)), split: family.split });
  return limitedFamilies.get(family)!;
}

export const earlyProbeFact = (step: ProbeStep): Fact<EarlyResult> => {
  const command = step.once ?? step.command;
  const fact = defineFact(`probe:${command}`, `${limited(command)} 2>&1`, (stdout, code) => ({
    passed: code === 0,
    output: stdout.trim(),
  }));
  return step.family ? { ...fact, family: { of: limitedFamily(step.family.of), member: step.family.member } } : fact;
};

/** The probes these operations make, as facts; only operations that need no facts can be planned ahead. */
export function earlyProbes(ops: Operation[]): Fact<EarlyResult>[] {
  return ops
    .filter((op) => Object.keys(op.facts).length === 0)
    .flatMap((op) => {
      try {
        return op.plan({}).filter((step): step is ProbeStep => step.kind === "probe");
      } catch {
        return [];
      }
    })
    .map(earlyProbeFact);
}
