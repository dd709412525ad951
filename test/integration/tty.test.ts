import { spawnSync } from "node:child_process";
import { expect, it } from "vitest";
import { testInventory } from "../helpers/rigger.js";
import { describeHosts } from "../testbed/testbed.js";

/** Runs the CLI on a pseudo-terminal (util-linux `script`), as an operator at a terminal would. */
function onTerminal(args: string): string {
  const env = { ...process.env };
  delete env.CI;
  const result = spawnSync(
    "script",
    ["-qec", `stty cols 120 rows 40; node_modules/.bin/tsx run.ts ${args}`, "/dev/null"],
    { encoding: "utf8", env },
  );
  // Drop terminal control sequences; keep what a person sees.
  return result.stdout.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, "").replace(/\r/g, "");
}

describeHosts("on a terminal: the listr2 tree", () => {
  it("shows one node per host with its outcome, then the recap, secrets masked", () => {
    const inventory = testInventory({
      // The commands print the secret without holding it (a command holding one is refused: argv is public).
      "group_vars/all.yaml":
        "fault_run: printf 'tty-secret-%s' value-0123456789 >/dev/null\napi_token: tty-secret-value-0123456789\n",
      "host_vars/th2.yaml": "fault_run: printf 'tty-secret-%s' value-0123456789 >&2; exit 3\n",
    });
    const screen = onTerminal(`test/e2e/fixtures/faults.ts -i ${inventory} -vv`);
    expect(screen).toMatch(/✔ th1: 1 changed/);
    expect(screen).toMatch(/✔ th3: 1 changed/);
    expect(screen).toMatch(/✖ th2\n +› th2 failed: exit 3: \*{8}/);
    expect(screen).toMatch(/RECAP\nHOST .*\nth1 +0 +1 +0 /);
    expect(screen).not.toContain("tty-secret-value-0123456789");
    expect(screen).toContain("********");
  });
});
