/**
 * `npm run try`: the whole MatrixRTC stack on a throwaway local host (a container with systemd and
 * sshd, reached over SSH like a real server), with Caddy's internal CA instead of Let's Encrypt.
 * Needs root on Debian or Ubuntu: it installs Docker and the testbed's tools the first time.
 */
import { join } from "node:path";
import { $ } from "zx";
import { main } from "../../src/cli/main.js";
import { runWithNames } from "../helpers/matrix-client.js";
import { stackInventory } from "../helpers/stack.js";
import { loadTestbed } from "./testbed.js";

const step = (text: string) => console.log(`\n== ${text}`);
const shell = $({ stdio: "inherit" });

step("a throwaway host (th1), and the images the stack runs (LiveKit built from source the first time)");
await shell`bash test/testbed/hosts.sh up 1`;
await shell`bash test/testbed/images.sh`;

const testbed = loadTestbed();
// SQLite: trying rigger out is what Synapse allows it for; a real server gets PostgreSQL.
const inventory = stackInventory(testbed, "th1", "synapse_database: sqlite");
const report = join(inventory, "report.json");
step(`deploying with: npx tsx run playbooks/site.ts -i ${inventory}`);
const code = await main(["playbooks/site.ts", "-i", inventory, "--json", report]);

const evidence = join(inventory, "evidence");
const verify = ["playbooks/verify.ts", "-i", inventory, "-e", "call_probe=true", "--report", evidence];
step(`proving it, a real call included: npx tsx run ${verify.join(" ")}`);
// The stack's names resolve to th1 only in the verify run's own view of /etc/hosts (no DNS here).
const verified =
  code === 0
    ? ((
        await runWithNames(
          inventory,
          testbed.hosts.find((h) => h.name === "th1")!.ip,
          ["node_modules/.bin/tsx", "run.ts", ...verify],
          { stdio: "inherit" },
        )
      ).exitCode ?? 1)
    : code;

step(verified === 0 ? "the stack is up, and every check passed" : `the run failed (exit ${verified})`);
console.log(
  [
    `inventory (secrets generated into its secrets.yaml): ${inventory}`,
    `the run's report (JSON, secrets masked):             ${report}`,
    `the evidence report (each check, what it saw):       ${join(evidence, "report.html")}`,
    `run it again (changes nothing):  npx tsx run playbooks/site.ts -i ${inventory}`,
    `look for drift:                  npx tsx run playbooks/site.ts -i ${inventory} --check --diff`,
    "tear the host down:              npm run testbed:down",
  ].join("\n"),
);
process.exit(verified);
