/**
 * Loads the built engine (dist/engine.cjs) with V8's code cache: compiling its two megabytes of
 * JavaScript is most of a run's start-up, and Node 20 keeps no cache of its own (Node 22's
 * module.enableCompileCache would). A run without a usable cache writes one beside the engine as it
 * exits, holding every function the run compiled. V8 refuses a cache made by another Node; one
 * older than the engine was made for another build and is not read.
 */
import { readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Script } from "node:vm";
import type * as Engine from "./engine.js";

const file = fileURLToPath(new URL("./engine.cjs", import.meta.url));
const cacheFile = `${file}.v8cache`;

function readCache(): Buffer | undefined {
  try {
    return statSync(cacheFile).mtimeMs >= statSync(file).mtimeMs ? readFileSync(cacheFile) : undefined;
  } catch {
    return undefined;
  }
}

function writeCache(script: Script): void {
  try {
    const partial = `${cacheFile}.${process.pid}`;
    writeFileSync(partial, script.createCachedData());
    renameSync(partial, cacheFile);
  } catch {
    // An install this user cannot write to runs without the cache.
  }
}

const cachedData = readCache();
// CommonJS's module wrapper, on the engine's first line so its line numbers stay as they are.
const script = new Script(`(function (exports, require, module, __filename, __dirname) {${readFileSync(file, "utf8")}\n})`, { filename: file, cachedData });
if (cachedData === undefined || script.cachedDataRejected) process.once("exit", () => writeCache(script));
const module = { exports: {} as typeof Engine };
script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
module.exports.useImporter((specifier) => import(specifier));

export const engine = module.exports;
