#!/usr/bin/env node
// The fast entry (one Node process, no TypeScript loader): `npx rigger ...` or `node bin/rigger.mjs ...`.
// It runs the engine built into dist/ by `npm ci`; playbooks and roles are bundled as they load.
import { existsSync } from "node:fs";
import { builtIsFresh } from "./built-is-fresh.mjs";

const built = new URL("../dist/main.js", import.meta.url);
if (!existsSync(built)) {
  console.error("rigger: the engine is not built (dist/main.js is missing): run `npm run build` (npm ci does)");
  process.exit(1);
}
if (!builtIsFresh()) {
  console.error(
    "rigger: the built engine (dist/) is older than the sources in src/ (a git pull since the last build?): run `npm run build`",
  );
  process.exit(1);
}
const { main } = await import(built.href);
process.exit(await main(process.argv.slice(2)));
