/**
 * The CLI as the README runs it: `npx tsx run <playbook.ts> -i <inventory>`. When the engine is
 * built (dist/, by `npm ci`) and no source of it is newer, the run goes on in a plain Node process
 * (bin/rigger.mjs): under tsx's loader every module the engine loads passes through its hooks,
 * which costs more (about 0.4 s) than starting Node again (about 0.07 s). Otherwise the engine loads
 * from src/ through the loader, as in development.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { builtIsFresh } from "./bin/built-is-fresh.mjs";

const args = process.argv.slice(2);

/** Runs the fast entry with this process's terminal, passing signals on; resolves to its exit. */
function fastEntry(): Promise<number> {
  const child = spawn(process.execPath, [fileURLToPath(new URL("./bin/rigger.mjs", import.meta.url)), ...args], {
    stdio: "inherit",
  });
  const signals = ["SIGINT", "SIGTERM", "SIGHUP"] as const;
  signals.forEach((signal) => process.on(signal, () => child.kill(signal)));
  return new Promise((resolve, reject) =>
    child.on("error", reject).on("exit", (code, signal) => {
      if (signal === null) return resolve(code ?? 1);
      signals.forEach((s) => process.removeAllListeners(s));
      process.kill(process.pid, signal);
    }),
  );
}

if (builtIsFresh({ everyFile: true })) process.exit(await fastEntry());
const { main } = (await import("./src/cli/main.js")) as typeof import("./src/cli/main.js");
// Exit when the run is done, even if a library keeps handles open (LiveKit's client does); on
// Linux, writes to pipes and files have completed by then.
process.exit(await main(args));
