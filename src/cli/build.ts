/**
 * `npm run build`, run by `npm ci` and `npm install` (the `prepare` script): the engine as plain
 * JavaScript in dist/ (never committed), so a run loads it without the TypeScript loader.
 * - dist/engine.cjs: the engine and its libraries in one CommonJS file (Node reads one file, not
 *   some hundreds: zod alone is about a hundred), loaded by dist/engine-loader.js with V8's code cache.
 * - dist/main.js (the CLI), dist/rigger.js (what playbooks and roles import) and dist/zod.js (the zod
 *   playbooks' `import "zod"` is pointed at): ES modules handing out the engine's exports, so
 *   playbook and engine share one instance of each module.
 * What cannot be bundled stays in node_modules: native addons, esbuild (it runs a binary of its own)
 * and LiveKit's client; and age-encryption, loaded only for an encrypted secrets store.
 */
import { rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { relative, resolve } from "node:path";
import { build } from "esbuild";
import type * as Engine from "./engine.js";

const OUT = "dist";
const common = { bundle: true, platform: "node", target: "node20", sourcemap: "linked", logLevel: "warning" } as const;

rmSync(OUT, { recursive: true, force: true });
await build({
  ...common,
  entryPoints: { engine: "src/cli/engine.ts" },
  outdir: OUT,
  outExtension: { ".js": ".cjs" },
  format: "cjs",
  // age-encryption is imported only when a secrets store is encrypted: a run without one does not parse it.
  external: ["esbuild", "@livekit/rtc-node", "cpu-features", "age-encryption"],
  // What the sources ask of import.meta, a CommonJS file answers from its own name.
  define: { "import.meta.url": "__rigger_module_url" },
  banner: { js: 'var __rigger_module_url = require("node:url").pathToFileURL(__filename).href;' },
  plugins: [
    {
      // A native addon (ssh2's optional crypto binding) is loaded where npm built it.
      name: "native-addons",
      setup(on) {
        on.onResolve({ filter: /\.node$/ }, (args) => ({
          path: `./${relative(resolve(OUT), resolve(args.resolveDir, args.path))}`,
          external: true,
        }));
      },
    },
  ],
});
await build({
  ...common,
  entryPoints: { "engine-loader": "src/cli/engine-loader.ts" },
  outdir: OUT,
  format: "esm",
  packages: "external",
});

/** An ES module exporting each of the engine's `part` under its own name (`default` and `catch` included). */
const facade = (part: "rigger" | "zod" | null, names: string[]) =>
  [
    'import { engine } from "./engine-loader.js";',
    `const part = engine${part ? `.${part}` : ""};`,
    ...names.map((name, i) => `const e${i} = part[${JSON.stringify(name)}];`),
    `export { ${names.map((name, i) => `e${i} as ${JSON.stringify(name)}`).join(", ")} };`,
    "",
  ].join("\n");
const engine = createRequire(import.meta.url)(resolve(OUT, "engine.cjs")) as typeof Engine;
writeFileSync(resolve(OUT, "main.js"), facade(null, ["main"]));
writeFileSync(resolve(OUT, "rigger.js"), facade("rigger", Object.keys(engine.rigger)));
writeFileSync(resolve(OUT, "zod.js"), facade("zod", Object.keys(engine.zod)));
