/**
 * The CLI as the README runs it: `npx tsx run <playbook.ts> -i <inventory>`. The engine loads as
 * plain JavaScript from dist/ (built by `npm ci`) unless a source of it is newer than that build,
 * when it loads from src/ through the TypeScript loader as before.
 */
import { readdirSync, statSync } from "node:fs";

const built = new URL("./dist/main.js", import.meta.url);
const sources = new URL("./src/", import.meta.url);

function builtIsFresh(): boolean {
  try {
    const at = statSync(built).mtimeMs;
    return readdirSync(sources, { recursive: true }).every((file) => statSync(new URL(String(file), sources)).mtimeMs <= at);
  } catch {
    return false;
  }
}

const { main } = (await import(builtIsFresh() ? built.href : "./src/cli/main.js")) as typeof import("./src/cli/main.js");
// Exit when the run is done, even if a library keeps handles open (LiveKit's client does); on
// Linux, writes to pipes and files have completed by then.
process.exit(await main(process.argv.slice(2)));
