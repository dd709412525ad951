/** What is said of an inventory's variables before any host is touched: every refusal at once, with its file and an example; a near-miss of a name. */
import type { z } from "zod";
import { configErrors, type ConfigError } from "../inventory/errors.js";
import { likelyMeant } from "../inventory/near-miss.js";

/** A host outside --limit parsed to learn where it keeps secrets: its variables must be valid for that too, and are refused saying why. */
export function outsideLimit<T>(host: string, parse: (refused: VariableProblem[]) => T): T {
  const refused: VariableProblem[] = [];
  const parsed = parse(refused);
  if (!refused.length) return parsed;
  const error = variablesRefused(refused);
  error.message = `${error.message}\n(${host} is outside --limit, but this run generates secrets it may hold, so its variables must be valid too)`;
  throw error;
}

/** What a variable nothing sets needs: its type, and an example where its schema gives one (`.meta({ examples })`). */
export function requiredMessage(zodMessage: string, schema: z.ZodType | undefined): string {
  const expected = zodMessage.replace(/^Invalid input: /, "").replace(/, received undefined$/, "");
  const example = (schema?.meta() as { examples?: unknown[] } | undefined)?.examples?.[0];
  return `required, and set nowhere: ${expected}${example === undefined ? "" : `, such as ${JSON.stringify(example)}`}`;
}

export interface VariableProblem {
  file: string;
  host: string;
  path: string;
  message: string;
  role: string;
}

/**
 * One error for every refused variable: a line each, in the form of a single error (file: host:
 * variable: what was expected (roles)), the hosts and roles that share a problem on one line.
 */
export function variablesRefused(problems: VariableProblem[]): ConfigError {
  const grouped = new Map<string, { problem: VariableProblem; hosts: Set<string>; roles: Set<string> }>();
  for (const problem of problems) {
    const key = JSON.stringify([problem.file, problem.path, problem.message]);
    const group = grouped.get(key) ?? { problem, hosts: new Set(), roles: new Set() };
    group.hosts.add(problem.host);
    group.roles.add(problem.role);
    grouped.set(key, group);
  }
  const lines = [...grouped.values()].map(({ problem, hosts, roles }) => ({
    file: problem.file,
    keyPath: `${[...hosts].join(", ")}: ${problem.path}`,
    expected: `${problem.message} (${roles.size > 1 ? "roles" : "role"} ${[...roles].join(", ")})`,
  }));
  return configErrors(lines, "variables refused");
}

/** Variables no role declares that look like a declared name with a typo. */
export function nearMisses(
  vars: Record<string, unknown>,
  origin: (key: string) => string,
  declared: Set<string>,
): string[] {
  return Object.keys(vars).flatMap((key) => {
    if (declared.has(key)) return [];
    const meant = likelyMeant(key, declared);
    return meant
      ? [`${origin(key)}: ${key}: not a variable of any role in this playbook; did you mean "${meant}"?`]
      : [];
  });
}
