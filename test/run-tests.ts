/**
 * `npm test`: the unit suite, then the real-host suites against a fresh testbed, each reported
 * with its own counts, then the testbed torn down and checked gone.
 *   RIGGER_SKIP_HOSTS=1  skip the real-host suites (never set in CI)
 *   TESTBED_KEEP=1       leave the test hosts running afterwards
 */
import { readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { $ } from "zx";

interface Counts {
  passed: number;
  failed: number;
  skipped: number;
}

const hostsScript = "test/testbed/hosts.sh";
const run = $({ stdio: "inherit", nothrow: true });

async function vitestProject(project: string): Promise<Counts> {
  const report = join(tmpdir(), `rigger-vitest-${project}-${process.pid}.json`);
  const result =
    await run`npx vitest run --project ${project} --reporter=default --reporter=json --outputFile.json=${report}`;
  try {
    const json = JSON.parse(readFileSync(report, "utf8")) as {
      numPassedTests: number;
      numFailedTests: number;
      numPendingTests: number;
      numTodoTests: number;
      testResults: Array<{ status: string; assertionResults: Array<{ status: string }> }>;
    };
    // A file that failed to load, or whose setup failed, has no failed test to count (its tests
    // show as skipped), but it is a failure all the same.
    const failedFiles = json.testResults.filter(
      (file) => file.status === "failed" && !file.assertionResults.some((test) => test.status === "failed"),
    ).length;
    const failed = json.numFailedTests + failedFiles;
    return {
      passed: json.numPassedTests,
      failed: failed || (result.exitCode === 0 ? 0 : 1),
      skipped: json.numPendingTests + json.numTodoTests,
    };
  } catch {
    return { passed: 0, failed: 1, skipped: 0 };
  } finally {
    rmSync(report, { force: true });
  }
}

const line = (label: string, c: Counts) =>
  `${label}: ${c.passed} passed, ${c.failed} failed${c.skipped ? `, ${c.skipped} skipped` : ""}`;

const summary: string[] = [];
const unit = await vitestProject("unit");
summary.push(line("unit", unit));
let hosts: Counts = { passed: 0, failed: 0, skipped: 0 };

if (process.env.RIGGER_SKIP_HOSTS === "1") {
  summary.push("hosts: skipped (RIGGER_SKIP_HOSTS=1)");
} else {
  const up = await run`bash ${hostsScript} up 8`.then((systemd) =>
    systemd.exitCode === 0 ? run`bash ${hostsScript} up 30 --light` : systemd,
  );
  // The images the service roles deploy: LiveKit built from its Go module, the rest from Debian's packages and our stand-ins.
  const images = up.exitCode === 0 ? await run`bash test/testbed/images.sh` : up;
  // Without a testbed the host suites still run: they fail, each with the reason.
  if (images.exitCode !== 0) console.error("\nthe testbed did not come up; the real-host suites will fail\n");
  hosts = await vitestProject("hosts");
  summary.push(line("hosts", hosts));
  if (process.env.TESTBED_KEEP !== "1") {
    await run`bash ${hostsScript} down`;
    const left = (await $({ nothrow: true })`bash ${hostsScript} leftovers`).stdout.trim();
    if (left) {
      summary.push(`teardown: left behind ${left.split("\n").join(", ")}`);
      hosts.failed++;
    }
  }
}

const total = {
  passed: unit.passed + hosts.passed,
  failed: unit.failed + hosts.failed,
  skipped: unit.skipped + hosts.skipped,
};
console.log(["", ...summary, line("total", total)].join("\n"));
process.exit(total.failed === 0 && total.passed > 0 ? 0 : 1);
