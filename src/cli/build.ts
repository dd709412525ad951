/**
 * `npm run build`, run by `npm ci` and `npm install` (the `prepare` script): the engine as plain
 * JavaScript in dist/ (never committed), so a run loads it without the TypeScript loader. Two
 * entries share their modules: dist/main.js (the CLI) and dist/rigger.js (what playbooks and roles
 * import); the terminal renderer is a chunk of its own, loaded only on a terminal.
 */
import { rmSync } from "node:fs";
import { build } from "esbuild";

rmSync("dist", { recursive: true, force: true });
await build({
  entryPoints: { main: "src/cli/main.ts", rigger: "src/rigger.ts" },
  outdir: "dist",
  bundle: true,
  splitting: true,
  format: "esm",
  platform: "node",
  target: "node20",
  packages: "external",
  sourcemap: "linked",
  logLevel: "warning",
});
