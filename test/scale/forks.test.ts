/**
 * A run's cost grows with its forks, not with its hosts: on 30 light hosts (sshd alone, started by
 * `hosts.sh up 30 --light`), a host's connection is closed as soon as its part of the run is done,
 * so no more SSH connections are open at once than hosts are worked on at once.
 */
import { execFile } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { promisify } from "node:util";
import { parse } from "yaml";
import { expect, it, vi } from "vitest";
import { rigger } from "../helpers/rigger.js";
import { describeHosts, lightInventoryFile } from "../testbed/testbed.js";

const FORKS = 5;

/** The controller's established TCP connections to a light host's SSH port (172.30.0.101 and up), now. */
async function lightConnections(): Promise<number> {
  const { stdout } = await promisify(execFile)("ss", ["-Htn", "state", "established", "dport", "= :22"]);
  return stdout.split("\n").filter((line) => /\s172\.30\.0\.(1\d\d|2\d\d):22\s*$/.test(line)).length;
}

describeHosts("a run's cost grows with its forks, not its hosts", () => {
  it(`keeps at most --forks (${FORKS}) SSH connections open while it works on 30 light hosts`, async () => {
    expect(existsSync(lightInventoryFile), "the light hosts are up (hosts.sh up 30 --light)").toBe(true);
    const hosts = Object.keys(parse(readFileSync(lightInventoryFile, "utf8")).all.children.light.hosts);
    expect(hosts).toHaveLength(30);
    let peak = 0;
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        peak = Math.max(peak, await lightConnections());
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
    // One command per host (the fault fixture's default, `true`), the lock and one batch of facts each.
    const run = await rigger("test/e2e/fixtures/faults.ts", "-i", lightInventoryFile, "-f", String(FORKS));
    sampling = false;
    await sampler;
    expect(run.code, run.out + run.err).toBe(0);
    expect(run.out.split("\n").filter((line) => /\| fault command: changed/.test(line))).toHaveLength(30);
    expect(peak, "connections were seen at all").toBeGreaterThan(0);
    expect(peak).toBeLessThanOrEqual(FORKS);
    // And none is left once the run is over.
    await vi.waitFor(async () => expect(await lightConnections()).toBe(0), { timeout: 5000, interval: 100 });
  }, 120_000);
});
