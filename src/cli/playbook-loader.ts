/**
 * Loads the operator's playbook. Under the TypeScript loader (the engine's own sources, as in the
 * tests) it is imported as it is. The built engine (dist/) runs without that loader: the playbook
 * and its roles are bundled first with esbuild (a few tens of milliseconds), with every import of
 * src/rigger.js pointed at dist/rigger.js, so playbook and engine share one instance of each
 * module, and each file's import.meta.url kept as its own (roles find their templates by it).
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { sha256Hex } from "../common/hash.js";

const fromSources = import.meta.url.endsWith(".ts");

export async function importPlaybook(file: string): Promise<unknown> {
  const url = pathToFileURL(resolve(file)).href;
  return import(fromSources ? url : await bundled(resolve(file)));
}

async function bundled(file: string): Promise<string> {
  const { build } = await import("esbuild");
  // dist/*.js: the project is its parent; bare imports resolve from its node_modules.
  const root = dirname(dirname(fileURLToPath(import.meta.url)));
  const engine = join(root, "dist", "rigger.js");
  const sources = [join(root, "src", "rigger.js"), join(root, "src", "rigger.ts")];
  const result = await build({
    entryPoints: [file],
    bundle: true,
    write: false,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    logLevel: "silent",
    plugins: [
      {
        name: "rigger-engine",
        setup(on) {
          on.onResolve({ filter: /rigger\.js$/ }, (args) => (sources.includes(resolve(args.resolveDir, args.path)) ? { path: engine, external: true } : undefined));
          on.onLoad({ filter: /\.[cm]?ts$/ }, (args) => ({
            contents: readFileSync(args.path, "utf8").replaceAll("import.meta.url", JSON.stringify(pathToFileURL(args.path).href)),
            loader: "ts",
          }));
        },
      },
    ],
  });
  const code = result.outputFiles[0]!.text;
  const dir = join(root, "node_modules", ".cache", "rigger");
  mkdirSync(dir, { recursive: true });
  const out = join(dir, `playbook-${sha256Hex(code).slice(0, 16)}.mjs`);
  writeFileSync(out, code);
  return pathToFileURL(out).href;
}
