/** All that the built engine hands out, as one module: dist/engine.cjs (see build.ts). */
export { main } from "./main.js";
export { useImporter } from "../common/importer.js";
export * as rigger from "../rigger.js";
export * as zod from "zod";
