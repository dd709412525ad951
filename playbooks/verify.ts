import { definePlaybook } from "../src/rigger.js";
import site from "./site.js";

/**
 * The checks of the MatrixRTC stack and nothing else: every role's verify probes, on the hosts
 * site.ts deploys it to, each check run even after one fails. With `--report DIR` it writes the
 * evidence report (report.md, report.json): each check, what it saw, pass or fail; secrets masked.
 * With `-e call_probe=true` it ends with a real two-party call through the stack (roles/call_probe).
 */
export default definePlaybook(site.plays.map((play) => ({ ...play, name: `${play.name}: checks`, checksOnly: true })));
