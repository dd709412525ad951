/**
 * Loads the operator's playbook. Under the TypeScript loader (the engine's own sources, as in the
 * tests) it is imported as it is. The built engine (dist/) runs without that loader: the playbook
 * and its roles are bundled first with esbuild (a few tens of milliseconds), with every import of
 * src/rigger.js pointed at dist/rigger.js and of zod at dist/zod.js, so playbook and engine share
 * one instance of each module, and each file's import.meta.url kept as its own (roles find their templates by it).
 * The bundle is kept (node_modules/.cache/rigger, each file written whole then renamed) and used
 * again while none of its files changed; where that folder cannot be written, it is made anew in a
 * private temporary folder each run.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { sha256Hex } from "../common/hash.js";
import { importModule } from "../common/importer.js";

const fromSources = import.meta.url.endsWith(".ts");

export async function importPlaybook(file: string): Promise<unknown> {
  const url = pathToFileURL(resolve(file)).href;
  return importModule(fromSources ? url : await bundled(resolve(file)));
}

/** What a bundle was made from: each input file and its modification time. */
type Manifest = { output: string; inputs: Record<string, number> };

const unchanged = (manifest: Manifest) =>
  existsSync(manifest.output) &&
  Object.entries(manifest.inputs).every(([path, mtime]) => existsSync(path) && statSync(path).mtimeMs === mtime);

async function bundled(file: string): Promise<string> {
  // dist/*.js: the project is its parent; bare imports resolve from its node_modules.
  const root = dirname(dirname(fileURLToPath(import.meta.url)));
  const cache = join(root, "node_modules", ".cache", "rigger");
  const manifestFile = join(cache, `playbook-${sha256Hex(file).slice(0, 16)}.json`);
  // The same playbook, none of its files changed since: the bundle made last time serves.
  const previous = existsSync(manifestFile) ? (JSON.parse(readFileSync(manifestFile, "utf8")) as Manifest) : undefined;
  if (previous && unchanged(previous)) return pathToFileURL(previous.output).href;
  const { build } = (await importModule("esbuild")) as typeof import("esbuild");
  const zod = join(root, "dist", "zod.js");
  const engine = join(root, "dist", "rigger.js");
  const sources = [join(root, "src", "rigger.js"), join(root, "src", "rigger.ts")];
  const result = await build({
    entryPoints: [file],
    bundle: true,
    write: false,
    metafile: true,
    format: "esm",
    platform: "node",
    target: "node20",
    packages: "external",
    logLevel: "silent",
    plugins: [
      {
        name: "rigger-engine",
        setup(on) {
          on.onResolve({ filter: /^zod$/ }, () => ({ path: zod, external: true }));
          on.onResolve({ filter: /rigger\.js$/ }, (args) =>
            sources.includes(resolve(args.resolveDir, args.path)) ? { path: engine, external: true } : undefined,
          );
          on.onLoad({ filter: /\.[cm]?ts$/ }, (args) => ({
            contents: readFileSync(args.path, "utf8").replaceAll(
              "import.meta.url",
              JSON.stringify(pathToFileURL(args.path).href),
            ),
            loader: "ts",
          }));
        },
      },
    ],
  });
  const code = result.outputFiles[0]!.text;
  const name = `playbook-${sha256Hex(code).slice(0, 16)}.mjs`;
  try {
    mkdirSync(cache, { recursive: true });
    const output = join(cache, name);
    writeWhole(output, code);
    // The engine's build is an input too: a new build may point the imports elsewhere.
    const inputs = Object.fromEntries(
      [...Object.keys(result.metafile.inputs), engine].map((input) => [
        resolve(input),
        statSync(resolve(input)).mtimeMs,
      ]),
    );
    writeWhole(manifestFile, JSON.stringify({ output, inputs } satisfies Manifest));
    return pathToFileURL(output).href;
  } catch {
    // A read-only install: the bundle goes to a private temporary folder, made anew each run.
    const output = join(mkdtempSync(join(tmpdir(), "rigger-playbook-")), name);
    writeFileSync(output, code);
    return pathToFileURL(output).href;
  }
}

/** Writes a file that another run may read at any moment: to a temporary name, then renamed over. */
function writeWhole(path: string, content: string): void {
  const partial = `${path}.${process.pid}.tmp`;
  writeFileSync(partial, content);
  renameSync(partial, path);
}
