import { createHash } from "node:crypto";
import { afterAll, beforeAll, expect, it } from "vitest";
import { SshConnection } from "../../src/connection/ssh.js";
import { HostSession } from "../../src/engine/host-session.js";
import { InstalledButFailedError } from "../../src/engine/installed-but-failed.js";
import type { WriteStep } from "../../src/ops/operation.js";
import { describeHosts } from "../testbed/testbed.js";

describeHosts("atomic writes: validation, backups, no half-written file", (testbed) => {
  let connection: SshConnection;
  let session: HostSession;
  const path = "/etc/rigger-write-test/app.conf";
  const step = (content: string, validate?: string): WriteStep => ({
    kind: "write",
    path,
    content,
    mode: 0o600,
    owner: "root",
    group: "root",
    ...(validate ? { validate } : {}),
  });

  beforeAll(async () => {
    connection = await SshConnection.open(testbed().target("th1"));
    session = new HostSession({
      name: "th1",
      connection,
      takeLock: false,
      openAnother: () => SshConnection.open(testbed().target("th1")),
    });
    await connection.exec(
      "rm -rf /etc/rigger-write-test /var/backups/rigger/etc__rigger-write-test__*; mkdir /etc/rigger-write-test",
    );
  });
  afterAll(async () => {
    await connection.exec("rm -rf /etc/rigger-write-test /var/backups/rigger/etc__rigger-write-test__*");
    connection.close();
  });

  it("keeps the old file live when validation fails, with the validator's message, and leaves no temporary file", async () => {
    await session.write(step("good=1\n", "grep -q good %s"));
    await expect(
      session.write(step("bad=1\n", "grep good %s || { echo 'line 1: no good here'; false; }")),
    ).rejects.toThrow(`writing ${path}: validation failed: line 1: no good here`);
    const state = await connection.exec(`cat ${path}; ls -A /etc/rigger-write-test`);
    expect(state.stdout).toBe("good=1\napp.conf\n");
  });

  it("says where the old content is kept when the file went live but what follows it failed, so that a rollback can put it back", async () => {
    await session.write(step("before=1\n"));
    const failing = session.write({ ...step("after=1\n"), then: "echo 'the reload failed' >&2; exit 7" });
    const error = (await failing.catch((e: unknown) => e)) as InstalledButFailedError;
    expect(error).toBeInstanceOf(InstalledButFailedError);
    expect(error.message).toBe(`writing ${path}: the reload failed`);
    expect(error.backup).toMatch(/^\/var\/backups\/rigger\/etc__rigger-write-test__app\.conf\.\d{8}T/);
    expect((await connection.exec(`cat ${path}; cat ${error.backup}`)).stdout).toBe("after=1\nbefore=1\n");
  });

  it("validates new content for check mode without writing it: the validator's words, nothing left behind", async () => {
    await session.write(step("good=1\n"));
    expect(await session.validate(step("good=2\n", "grep -q good %s"))).toBeUndefined();
    expect(await session.validate(step("bad=1\n", "grep good %s || { echo 'line 1: no good here'; false; }"))).toBe(
      "validation failed: line 1: no good here",
    );
    const state = await connection.exec(
      `cat ${path}; ls -A /etc/rigger-write-test; ls -A /tmp | grep -c '^tmp\\.' || true`,
    );
    expect(state.stdout).toBe("good=1\napp.conf\n0\n");
  });

  it("keeps a bounded number of backups, private, outside the config directory", async () => {
    for (let i = 0; i < 7; i++) await session.write(step(`version=${i}\n`));
    const backups = await connection.exec(
      "stat -c '%a' /var/backups/rigger; ls /var/backups/rigger | grep -c etc__rigger-write-test__app.conf; cat $(ls -1t /var/backups/rigger/etc__rigger-write-test__app.conf.* | head -1); stat -c %a $(ls -1t /var/backups/rigger/etc__rigger-write-test__app.conf.* | head -1)",
    );
    expect(backups.stdout).toBe("700\n5\nversion=5\n600\n");
  });

  it("prunes only this file's backups, not those of a file whose name starts with its name", async () => {
    const longer = `${path}.bak`;
    for (let i = 0; i < 2; i++) await session.write({ ...step(`other=${i}\n`), path: longer });
    await session.write({ ...step("other=2\n"), path: longer });
    for (let i = 0; i < 6; i++) await session.write(step(`again=${i}\n`));
    const counts = await connection.exec(
      "ls /var/backups/rigger | grep -c '^etc__rigger-write-test__app.conf.bak.'; ls /var/backups/rigger | grep -c '^etc__rigger-write-test__app.conf.[0-9]'",
    );
    expect(counts.stdout).toBe("2\n5\n");
  });

  it("removes the temporary file a killed run left beside the target", async () => {
    await connection.exec(
      "cd /etc/rigger-write-test && echo half > .rigger-0123456789ab-app.conf && echo other > .rigger-0123456789ab-other.conf",
    );
    await session.write(step("after=1\n"));
    expect((await connection.exec("ls -A /etc/rigger-write-test")).stdout).toBe(
      ".rigger-0123456789ab-other.conf\napp.conf\napp.conf.bak\n",
    );
  });

  it("copies bytes exactly: a binary file arrives unchanged", async () => {
    const bytes = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7) % 256));
    await session.write({ ...step(""), content: bytes, path: "/etc/rigger-write-test/blob.bin" });
    const sum = await connection.exec("sha256sum /etc/rigger-write-test/blob.bin | cut -d' ' -f1");
    expect(sum.stdout.trim()).toBe(createHash("sha256").update(bytes).digest("hex"));
  });
});
