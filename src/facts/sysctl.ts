import { sh } from "../common/shell.js";
import { defineFact, type Fact } from "./fact.js";

/** A kernel parameter's live value, whitespace normalised (`4096 87380` for multi-value keys). */
export function sysctlFact(key: string): Fact<string | undefined> {
  return defineFact(`sysctl:${key}`, sh`sysctl -n ${key}`, (stdout, code) =>
    code === 0 ? stdout.trim().split(/\s+/).join(" ") : undefined,
  );
}
