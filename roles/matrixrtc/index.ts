/**
 * What the MatrixRTC roles share: the operator's variables that mean the same thing in several
 * roles (one name, one schema), the rules that tie them together, and the names derived from them.
 * Each role picks the variables it needs from here and adds its own in its vars.ts; by concern:
 * schemas, topology (names, addresses, URLs), secrets, containers, checks and metrics.
 */
export * from "./schemas.js";
export * from "./topology.js";
export * from "./secrets.js";
export * from "./containers.js";
export * from "./checks.js";
export * from "./metrics.js";
