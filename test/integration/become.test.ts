import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, expect, it } from "vitest";
import { SshConnection } from "../../src/connection/ssh.js";
import { HostSession } from "../../src/engine/host-session.js";
import { rigger, testInventory } from "../helpers/rigger.js";
import { describeHosts } from "../testbed/testbed.js";

const PLAYBOOK = "test/e2e/fixtures/faults.ts";
const AS_ROOT = 'fault_run: test "$(id -u)" = 0\n';
const PASSWORD = "opsuser-sudo-pass-4821";

describeHosts("become: sudo with and without a password", (testbed) => {
  const connections: SshConnection[] = [];
  afterAll(() => connections.forEach((c) => c.close()));

  it("runs tasks as root through passwordless sudo, and only when asked to (-b, --become-user)", async () => {
    const become = testInventory({ "group_vars/all.yaml": `ansible_user: deploy\nansible_become: true\n${AS_ROOT}` });
    expect((await rigger(PLAYBOOK, "-i", become, "--limit", "th1")).code).toBe(0);
    // --become-user fills in what the inventory leaves unset: becoming the login user itself is no sudo at all.
    const asLogin = await rigger(PLAYBOOK, "-i", become, "--limit", "th1", "--become-user", "deploy");
    expect(asLogin.code).toBe(2);
    expect(asLogin.out).toContain("[th1] fault | fault command: failed");
    const plain = testInventory({ "group_vars/all.yaml": `ansible_user: deploy\n${AS_ROOT}` });
    const refused = await rigger(PLAYBOOK, "-i", plain, "--limit", "th1");
    expect(refused.code).toBe(2);
    expect(refused.out).toContain("[th1] fault | fault command: failed");
  });

  it("feeds a sudo password from the environment without printing it, and fails clearly on a wrong one", async () => {
    process.env.RIGGER_TEST_SUDO = PASSWORD;
    const vars = `ansible_user: opsuser\nansible_become: true\nansible_become_password: !env RIGGER_TEST_SUDO\n${AS_ROOT}`;
    const good = await rigger(PLAYBOOK, "-i", testInventory({ "group_vars/all.yaml": vars }), "--limit", "th2", "-vv");
    expect(good.code).toBe(0);
    expect(good.out + good.err).not.toContain(PASSWORD);

    process.env.RIGGER_TEST_SUDO = "not-the-password-at-all";
    const bad = await rigger(PLAYBOOK, "-i", testInventory({ "group_vars/all.yaml": vars }), "--limit", "th2", "-vv");
    expect(bad.code).toBe(2);
    // The lock is taken as the become user: it fails first, with sudo's own words, and sudo is not left waiting.
    expect(bad.out).toMatch(/\[th2\] FAILED: could not take the host lock \(exit 1\): .*incorrect password/);
    expect(bad.out + bad.err).not.toContain("not-the-password-at-all");
  });

  it("never hands the sudo password to a command when sudo does not ask for it", async () => {
    // deploy may sudo without a password: sudo reads nothing, and what it was given must not reach the task.
    process.env.RIGGER_TEST_SUDO = "a-password-sudo-never-asked-for";
    const vars = `ansible_user: deploy\nansible_become: true\nansible_become_password: !env RIGGER_TEST_SUDO\nfault_run: cat > /tmp/rigger-stdin-seen\n`;
    const run = await rigger(PLAYBOOK, "-i", testInventory({ "group_vars/all.yaml": vars }), "--limit", "th3");
    expect(run.code, run.out).toBe(0);
    const connection = await SshConnection.open(testbed().target("th3"));
    connections.push(connection);
    expect((await connection.exec("cat /tmp/rigger-stdin-seen; rm -f /tmp/rigger-stdin-seen")).stdout).toBe("");
  });

  it("writes a root-owned file atomically as an unprivileged login user", async () => {
    const connection = await SshConnection.open({ ...testbed().target("th3"), user: "deploy" });
    connections.push(connection);
    const session = new HostSession({
      name: "th3",
      connection,
      become: { user: "root" },
      takeLock: true,
      openAnother: () => SshConnection.open(testbed().target("th3")),
    });
    await session.write({
      kind: "write",
      path: "/etc/rigger-become.conf",
      content: "secret=1\n",
      mode: 0o640,
      owner: "root",
      group: "adm",
    });
    const check = await connection.exec(
      "sudo stat -c '%a %U %G' /etc/rigger-become.conf; sudo cat /etc/rigger-become.conf; ls -a /tmp /etc | grep -c '^\\.rigger-' || true",
    );
    // No temporary (.rigger-<random>-<name>) is left, staged or beside the file.
    expect(check.stdout).toBe("640 root adm\nsecret=1\n0\n");
    await connection.exec("sudo rm -f /etc/rigger-become.conf");
  });

  it("moves a root-only file both ways for a login user, with or without a sudo password: whole, private, no copy left staged", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rigger-become-"));
    const archive = join(dir, "archive.bin");
    writeFileSync(archive, randomBytes(3 * 1024 * 1024 + 17));
    const sha256 = createHash("sha256").update(readFileSync(archive)).digest("hex");
    for (const [user, password] of [
      ["deploy", undefined],
      ["opsuser", PASSWORD],
    ] as const) {
      const connection = await SshConnection.open({ ...testbed().target("th3"), user });
      connections.push(connection);
      const session = new HostSession({
        name: "th3",
        connection,
        become: { user: "root", password },
        takeLock: true,
        openAnother: () => SshConnection.open(testbed().target("th3")),
      });
      // Root's own archive folder, as role backup makes it: 0700, the file 0600.
      await connection.exec("sudo -S install -d -m 700 /var/backups/rigger-become", `${PASSWORD}\n`);
      await session.upload({
        kind: "upload",
        source: archive,
        path: "/var/backups/rigger-become/archive.bin",
        sha256,
        size: statSync(archive).size,
        mode: 0o600,
        owner: "root",
        group: "root",
      });
      const local = join(dir, `fetched-${user}`);
      await session.download("/var/backups/rigger-become/archive.bin", local);
      expect(createHash("sha256").update(readFileSync(local)).digest("hex"), user).toBe(sha256);
      expect(statSync(local).mode & 0o777).toBe(0o600);
      const left = await connection.exec(
        'sudo -S sh -c \'stat -c "%a %U" /var/backups/rigger-become/archive.bin; ls -a /tmp /var/tmp /var/backups/rigger-become | grep -c "^\\.rigger-" || true\'',
        `${PASSWORD}\n`,
      );
      expect(left.stdout, user).toBe("600 root\n0\n");
      await expect(session.download("/var/backups/rigger-become/none.bin", join(dir, "none"))).rejects.toThrow(
        /reading \/var\/backups\/rigger-become\/none\.bin: .*No such file/,
      );
      session.close();
    }
    const root = await SshConnection.open(testbed().target("th3"));
    connections.push(root);
    await root.exec("rm -rf /var/backups/rigger-become");
  });
});
