import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { $ } from "zx";
import { SshConnection } from "../../src/connection/ssh.js";
import { UnreachableError } from "../../src/connection/errors.js";
import { describeHosts, fault, latencyRelay } from "../testbed/testbed.js";

const REGISTRY = "http://172.30.0.1:5000/v2/";

describeHosts("testbed: the hosts are real", (testbed) => {
  const connections = new Map<string, SshConnection>();
  const on = (name: string) => connections.get(name)!;

  beforeAll(async () => {
    for (const host of testbed().hosts)
      connections.set(host.name, await SshConnection.open(testbed().target(host.name)));
  });
  afterAll(() => connections.forEach((c) => c.close()));

  it("has at least three hosts", () => {
    expect(testbed().hosts.length).toBeGreaterThanOrEqual(3);
  });

  it("each host answers with its own hostname", async () => {
    for (const host of testbed().hosts) {
      const result = await on(host.name).exec("hostname");
      expect(result).toMatchObject({ code: 0, stdout: `${host.name}\n` });
    }
  });

  it("runs systemd as PID 1, fully started", async () => {
    for (const host of testbed().hosts) {
      const result = await on(host.name).exec("cat /proc/1/comm; systemctl is-system-running");
      expect(result.stdout).toBe("systemd\nrunning\n");
    }
  });

  it("has no Docker on the plain image", async () => {
    // The image itself: suites install Docker on hosts, in any order.
    const image = (await $`docker images --format '{{.Repository}}:{{.Tag}}' testhost`).stdout.trim().split("\n")[0]!;
    const result = await $({
      nothrow: true,
    })`docker run --rm --entrypoint sh ${image} -c ${"command -v docker dockerd || echo none"}`;
    expect(result.stdout.trim()).toBe("none");
  });

  it("keeps a file written by SFTP on its own host only", async () => {
    const path = `/root/smoke-${randomBytes(4).toString("hex")}`;
    const content = `written to th1 ${Date.now()}\n`;
    await on("th1").putFile(path, content, 0o640);
    expect((await on("th1").exec(`stat -c %a ${path}; cat ${path}`)).stdout).toBe(`640\n${content}`);
    for (const other of ["th2", "th3"]) {
      expect((await on(other).exec(`test -e ${path}`)).code).toBe(1);
    }
    await on("th1").exec(`rm -f ${path}`);
  });

  it("reaches the local image registry from a host", async () => {
    const result = await on("th2").exec(
      `python3 -c 'import urllib.request; print(urllib.request.urlopen("${REGISTRY}").status)'`,
    );
    expect(result).toMatchObject({ code: 0, stdout: "200\n" });
  });

  it("reports a cut-off host unreachable within seconds, then reconnects once restored", async () => {
    await fault.cut("th3");
    try {
      const started = Date.now();
      await expect(SshConnection.open({ ...testbed().target("th3"), connectTimeoutMs: 3000 })).rejects.toBeInstanceOf(
        UnreachableError,
      );
      expect(Date.now() - started).toBeLessThan(4500);
    } finally {
      await fault.restore("th3");
    }
    const again = await SshConnection.open(testbed().target("th3"));
    expect((await again.exec("hostname")).stdout).toBe("th3\n");
    again.close();
  });

  it("fails a command on a connection whose host is cut off mid-run, within the keepalive bound", async () => {
    // Impatient on purpose (the default waits a minute of silence): a keepalive every second, three unanswered.
    const connection = await SshConnection.open({
      ...testbed().target("th2"),
      keepaliveIntervalMs: 1000,
      keepaliveCountMax: 3,
    });
    await fault.cut("th2");
    try {
      const started = Date.now();
      await expect(connection.exec("sleep 30")).rejects.toBeInstanceOf(UnreachableError);
      expect(Date.now() - started).toBeLessThan(6000);
      await expect(connection.exec("true")).rejects.toBeInstanceOf(UnreachableError);
    } finally {
      await fault.restore("th2");
      connection.close();
    }
  });

  it("stops and starts a host", async () => {
    await fault.stop("th3");
    try {
      await expect(SshConnection.open({ ...testbed().target("th3"), connectTimeoutMs: 2000 })).rejects.toBeInstanceOf(
        UnreachableError,
      );
    } finally {
      await fault.start("th3");
    }
    const again = await SshConnection.open(testbed().target("th3"));
    expect((await again.exec("systemctl is-system-running")).stdout).toBe("running\n");
    again.close();
  });

  it("drops packets on demand and stops dropping when cleared", async () => {
    await fault.loss("th1", 100);
    try {
      await expect(SshConnection.open({ ...testbed().target("th1"), connectTimeoutMs: 2000 })).rejects.toBeInstanceOf(
        UnreachableError,
      );
    } finally {
      await fault.clear("th1");
    }
    const again = await SshConnection.open(testbed().target("th1"));
    expect((await again.exec("hostname")).stdout).toBe("th1\n");
    again.close();
  });

  it("adds latency through the relay", async () => {
    const delayMs = 150;
    const th1 = testbed().hosts.find((h) => h.name === "th1")!;
    const relay = await latencyRelay(th1.ip, 22, delayMs);
    const dir = await mkdtemp(join(tmpdir(), "rigger-relay-"));
    try {
      // The relayed host is th1 under another address: its known key, recorded for that address.
      const key = (await readFile(testbed().knownHostsFile, "utf8"))
        .split("\n")
        .find((l) => l.startsWith(`${th1.ip} `))!;
      const knownHostsFile = join(dir, "known_hosts");
      await writeFile(knownHostsFile, key.replace(th1.ip, `[127.0.0.1]:${relay.port}`) + "\n");
      const slow = await SshConnection.open({
        ...testbed().target("th1"),
        host: "127.0.0.1",
        port: relay.port,
        knownHostsFile,
      });
      const timed = async (connection: SshConnection) => {
        const started = Date.now();
        await connection.exec("true");
        return Date.now() - started;
      };
      const fast = await SshConnection.open(testbed().target("th1"));
      const direct = await timed(fast);
      const relayed = await timed(slow);
      fast.close();
      slow.close();
      // A command is at least one round trip: the delay each way, twice.
      expect(relayed).toBeGreaterThanOrEqual(2 * delayMs);
      expect(direct).toBeLessThan(delayMs);
    } finally {
      await relay.close();
      await rm(dir, { recursive: true });
    }
  });
});
