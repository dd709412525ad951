/** Paths that break naive quoting, through every operation that takes a path, on a real host. */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { SshConnection } from "../../src/connection/ssh.js";
import { notOk, rigger, testInventory } from "../helpers/rigger.js";
import { describeHosts } from "../testbed/testbed.js";
import { HOSTILE_NAMES, HOSTILE_ROOT } from "./fixtures/hostile-paths.js";

const PLAYBOOK = "test/e2e/fixtures/hostile-paths.ts";
/** Lists what a smuggled command would have made, wherever it ran. */
const PWNED = "find / -xdev -name rigger-pwned -not -path '/proc/*'";

describeHosts("hostile paths: a space, quotes, $(...), a newline, a leading dash", (testbed) => {
  let host: SshConnection;
  let inventory: string;
  const sh = async (command: string) => (await host.exec(command)).stdout;

  beforeAll(async () => {
    host = await SshConnection.open(testbed().target("th1"));
    await sh(`rm -rf ${HOSTILE_ROOT}; ${PWNED} -delete`);
    inventory = testInventory({}, ["th1"]);
  });
  afterAll(async () => {
    await host?.exec(`rm -rf ${HOSTILE_ROOT}; ${PWNED} -delete`);
    host?.close();
  });

  it("creates each directory, file and template under its own name, runs nothing a name holds, and leaves no temporary", async () => {
    const first = await rigger(PLAYBOOK, "-i", inventory);
    expect(first.code, first.out + first.err).toBe(0);
    expect(notOk(first.out).length).toBe(1 + 3 * HOSTILE_NAMES.length);
    // Each name read back from the host byte for byte (NUL-separated, so a newline is kept).
    const listed = (await sh(`find ${HOSTILE_ROOT} -mindepth 1 -maxdepth 1 -print0`))
      .split("\0")
      .filter(Boolean)
      .map((p) => p.slice(HOSTILE_ROOT.length + 1));
    expect(listed.sort()).toEqual([...HOSTILE_NAMES].sort());
    for (const name of HOSTILE_NAMES) {
      const dir = `${HOSTILE_ROOT}/${name}`;
      const script = `cd "$1" && cat -- "$2" "$2.tpl" && stat -c %a -- "$2" && ls -A | grep -c '^\\.rigger-' || true`;
      const seen = (await host.exec(`sh -c ${quoteArg(script)} sh ${quoteArg(dir)} ${quoteArg(name)}`)).stdout;
      expect(seen, name).toBe(`${name}\n${name}\n640\n0\n`);
    }
    expect(await sh(PWNED)).toBe("");
  });

  it("reads the hostile paths back as facts: a second run changes nothing, a changed mode changes only the mode", async () => {
    const again = await rigger(PLAYBOOK, "-i", inventory);
    expect(again.code).toBe(0);
    expect(notOk(again.out)).toEqual([]);
    const extra = join(inventory, "mode.yaml");
    writeFileSync(extra, "hostile_mode: 0o600\n");
    const chmod = await rigger(PLAYBOOK, "-i", inventory, "-e", `@${extra}`, "-vv");
    expect(chmod.code, chmod.out).toBe(0);
    expect(notOk(chmod.out).length).toBe(2 * HOSTILE_NAMES.length);
    expect(chmod.out).not.toContain(`write ${HOSTILE_ROOT}`);
    expect((await sh(`find ${HOSTILE_ROOT} -type f -perm 600 -printf x`)).length).toBe(2 * HOSTILE_NAMES.length);
  });

  it("removes them by name and nothing beside them", async () => {
    await sh(`touch ${HOSTILE_ROOT}/keep`);
    const extra = join(inventory, "remove.yaml");
    writeFileSync(extra, "hostile_remove: true\n");
    const removed = await rigger(PLAYBOOK, "-i", inventory, "-e", `@${extra}`);
    expect(removed.code, removed.out + removed.err).toBe(0);
    expect(await sh(`ls -A ${HOSTILE_ROOT}`)).toBe("keep\n");
    expect(await sh(PWNED)).toBe("");
  });
});

/** One word for the test's own commands (the engine's quoting is what is under test, not used here). */
function quoteArg(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}
