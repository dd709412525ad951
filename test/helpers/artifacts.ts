import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";

/** Where the tests leave what a reader of CI's results looks at (screenshots): artifacts/ at the top of the repository. */
const ARTIFACTS = resolve(import.meta.dirname, "../../artifacts");

/** A path in artifacts/ for this file name, the folder made. */
export function artifact(name: string): string {
  mkdirSync(ARTIFACTS, { recursive: true });
  return join(ARTIFACTS, name);
}
