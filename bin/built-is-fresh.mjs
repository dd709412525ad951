// Whether dist/ was built from the sources as they are. `everyFile`: no file under src/ is newer
// than the build (an editor may rewrite a file in place); else no folder of src/ is, which is what
// a `git pull` or checkout changes (it replaces the files it updates), and costs a few stats, not a
// hundred. A copy without src/ (a package) counts as fresh.
import { existsSync, readdirSync, statSync } from "node:fs";

export function builtIsFresh({ everyFile = false } = {}) {
  const built = new URL("../dist/main.js", import.meta.url);
  const sources = new URL("../src/", import.meta.url);
  try {
    if (!existsSync(sources)) return existsSync(built);
    const at = statSync(built).mtimeMs;
    const entries = everyFile
      ? readdirSync(sources, { recursive: true }).map(String)
      : [
          "",
          ...readdirSync(sources, { withFileTypes: true })
            .filter((entry) => entry.isDirectory())
            .map((entry) => `${entry.name}/`),
        ];
    return entries.every((entry) => statSync(new URL(entry, sources)).mtimeMs <= at);
  } catch {
    return false;
  }
}
