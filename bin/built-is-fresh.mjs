// Whether dist/ was built from the sources as they are: no file under src/ is newer than the build
// (a `git pull` since `npm ci` leaves dist/ stale). A clone without src/ (a package) counts as fresh.
import { existsSync, readdirSync, statSync } from "node:fs";

export function builtIsFresh(root = new URL("../", import.meta.url)) {
  const built = new URL("dist/main.js", root);
  const sources = new URL("src/", root);
  try {
    if (!existsSync(sources)) return existsSync(built);
    const at = statSync(built).mtimeMs;
    return readdirSync(sources, { recursive: true }).every((file) => statSync(new URL(String(file), sources)).mtimeMs <= at);
  } catch {
    return false;
  }
}
