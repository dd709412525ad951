/**
 * `npm run build`, run by `npm ci` and `npm install` (the `prepare` script): the engine as plain
 * JavaScript in dist/ (never committed), so a run loads it without the TypeScript loader. Three
 * entries share their modules: dist/main.js (the CLI), dist/rigger.js (what playbooks and roles
 * import) and dist/zod.js (the zod that playbooks' `import "zod"` is pointed at, the engine's own
 * copy). The libraries are bundled in too: Node then reads a few files, not some hundreds (zod alone
 * is about a hundred), which halves the time a run takes to load. What cannot be bundled stays
 * in node_modules: native addons, esbuild (it runs a binary of its own) and LiveKit's client.
 * The terminal renderer is a chunk of its own, loaded only on a terminal.
 */
import { rmSync } from "node:fs";
import { relative, resolve } from "node:path";
import { build } from "esbuild";

const OUT = "dist";
// Bundled CommonJS code (ssh2, handlebars) asks for `require` and `__dirname`; ES modules have neither.
const COMMONJS_SHIM = [
  'import { createRequire as __rigger_createRequire } from "node:module";',
  'import { fileURLToPath as __rigger_fileURLToPath } from "node:url";',
  "const require = __rigger_createRequire(import.meta.url);",
  'const __dirname = __rigger_fileURLToPath(new URL(".", import.meta.url));',
].join("\n");

rmSync(OUT, { recursive: true, force: true });
await build({
  entryPoints: { main: "src/cli/main.ts", rigger: "src/rigger.ts", zod: "zod" },
  outdir: OUT,
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  external: ["esbuild", "@livekit/rtc-node", "cpu-features"],
  banner: { js: COMMONJS_SHIM },
  sourcemap: "linked",
  logLevel: "warning",
  plugins: [
    {
      // A native addon (ssh2's optional crypto binding) is loaded where npm built it.
      name: "native-addons",
      setup(on) {
        on.onResolve({ filter: /\.node$/ }, (args) => ({ path: `./${relative(resolve(OUT), resolve(args.resolveDir, args.path))}`, external: true }));
      },
    },
  ],
});
