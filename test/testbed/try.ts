/**
 * `npm run try`: the whole MatrixRTC stack on a throwaway local host (a container with systemd and
 * sshd, reached over SSH like a real server), with Caddy's internal CA instead of Let's Encrypt.
 * Needs root on Debian or Ubuntu: it installs Docker and the testbed's tools the first time.
 */
import { join } from "node:path";
import { $ } from "zx";
import { main } from "../../src/cli/main.js";
import { stackInventory } from "../helpers/stack.js";
import { loadTestbed } from "./testbed.js";

const step = (text: string) => console.log(`\n== ${text}`);
const shell = $({ stdio: "inherit" });

step("a throwaway host (th1), and the images the stack runs (LiveKit built from source the first time)");
await shell`bash test/testbed/hosts.sh up 1`;
await shell`bash test/testbed/images.sh`;

const inventory = stackInventory(loadTestbed(), "th1");
const report = join(inventory, "report.json");
step(`deploying with: npx tsx run playbooks/site.ts -i ${inventory}`);
const code = await main(["playbooks/site.ts", "-i", inventory, "--json", report]);

const evidence = join(inventory, "evidence");
step(`proving it: npx tsx run playbooks/verify.ts -i ${inventory} --report ${evidence}`);
const verified = code === 0 ? await main(["playbooks/verify.ts", "-i", inventory, "--report", evidence]) : code;

step(verified === 0 ? "the stack is up, and every check passed" : `the run failed (exit ${verified})`);
console.log(
  [
    `inventory (secrets generated into its secrets.yaml): ${inventory}`,
    `the run's report (JSON, secrets masked):             ${report}`,
    `the evidence report (each check, what it saw):       ${join(evidence, "report.md")}`,
    `run it again (changes nothing):  npx tsx run playbooks/site.ts -i ${inventory}`,
    `look for drift:                  npx tsx run playbooks/site.ts -i ${inventory} --check --diff`,
    "tear the host down:              npm run testbed:down",
  ].join("\n"),
);
process.exit(verified);
