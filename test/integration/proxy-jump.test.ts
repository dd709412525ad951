import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { rigger, testInventory } from "../helpers/rigger.js";
import { describeHosts } from "../testbed/testbed.js";

describeHosts("ssh config aliases and ProxyJump", (testbed) => {
  it("reaches a host by a name only the jump host can resolve, through ~/.ssh/config", async () => {
    const { hosts, keyFile, knownHostsFile } = testbed();
    const dir = mkdtempSync(join(tmpdir(), "rigger-jump-"));
    // "th2" resolves only inside the test network (Docker's DNS): the controller cannot reach it by name.
    const th2Key = readFileSync(knownHostsFile, "utf8")
      .split("\n")
      .find((l) => l.startsWith(`${hosts[1]!.ip} `))!
      .split(" ")
      .slice(1)
      .join(" ");
    const knownHosts = join(dir, "known_hosts");
    writeFileSync(knownHosts, `${readFileSync(knownHostsFile, "utf8")}th2 ${th2Key}\n`);
    const sshConfig = join(dir, "config");
    writeFileSync(
      sshConfig,
      `Host middle\n  HostName th2\n  User root\n  IdentityFile ${keyFile}\n  ProxyJump root@${hosts[0]!.ip}\n`,
    );
    const inventory = testInventory();
    writeFileSync(
      join(inventory, "hosts.yaml"),
      `all:\n  vars:\n    rigger_known_hosts_file: ${knownHosts}\n    ansible_ssh_private_key_file: ${keyFile}\n    fault_run: test "$(hostname)" = th2\n  hosts:\n    middle:\n`,
    );
    const run = await rigger("test/e2e/fixtures/faults.ts", "-i", inventory, "--ssh-config", sshConfig);
    expect(run.err).toBe("");
    expect(run.code).toBe(0);
    expect(run.out).toContain("[middle] fault | fault command: changed");
  });
});
