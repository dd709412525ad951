/**
 * Loads the built engine (dist/engine.cjs) with V8's code cache: compiling its two megabytes of
 * JavaScript is most of a run's start-up, and Node 20 keeps no cache of its own (Node 22's
 * module.enableCompileCache would). A run without a usable cache writes one beside the engine as it
 * exits, holding every function the run compiled. V8 refuses a cache made by another Node; the cache
 * begins with the sha256 of the engine it was made from and serves that engine only, and a run whose
 * engine changed on disk meanwhile (a rebuild) writes none.
 */
import { createHash } from "node:crypto";
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import { Script } from "node:vm";
import type * as Engine from "./engine.js";

const file = fileURLToPath(new URL("./engine.cjs", import.meta.url));
const cacheFile = `${file}.v8cache`;
const source = readFileSync(file);
const digestOf = (bytes: Buffer) => createHash("sha256").update(bytes).digest();
const digest = digestOf(source);

function readCache(): Buffer | undefined {
  try {
    const cache = readFileSync(cacheFile);
    return cache.subarray(0, digest.length).equals(digest) ? cache.subarray(digest.length) : undefined;
  } catch {
    return undefined;
  }
}

function writeCache(script: Script): void {
  try {
    if (!digestOf(readFileSync(file)).equals(digest)) return;
    const partial = `${cacheFile}.${process.pid}`;
    writeFileSync(partial, Buffer.concat([digest, script.createCachedData()]));
    renameSync(partial, cacheFile);
  } catch {
    // An install this user cannot write to runs without the cache.
  }
}

const cachedData = readCache();
// CommonJS's module wrapper, on the engine's first line so its line numbers stay as they are.
const script = new Script(
  `(function (exports, require, module, __filename, __dirname) {${source.toString("utf8")}\n})`,
  { filename: file, cachedData },
);
if (cachedData === undefined || script.cachedDataRejected) process.once("exit", () => writeCache(script));
const module = { exports: {} as typeof Engine };
script.runInThisContext()(module.exports, createRequire(file), module, file, dirname(file));
module.exports.useImporter((specifier) => import(specifier));

export const engine = module.exports;
