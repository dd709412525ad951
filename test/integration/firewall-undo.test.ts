/**
 * The firewall's lock-out guard on a real host: new rules go live with an undo timer armed, and
 * are kept only when the timer is stopped in time. A timer that fired first must be noticed.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { SshConnection } from "../../src/connection/ssh.js";
import { HostSession } from "../../src/engine/host-session.js";
import type { GuardedStep, WriteStep } from "../../src/ops/operation.js";
import { nftablesFirewall } from "../../src/ops/nftables.js";
import { describeHosts } from "../testbed/testbed.js";

const CLEAN =
  "systemctl stop rigger-firewall-rollback-rigger.timer 2>/dev/null; nft delete table inet rigger 2>/dev/null; rm -f /etc/rigger/firewall-rigger* /var/lib/rigger/firewall-rigger*; true";

describeHosts("the firewall's undo timer", (testbed) => {
  let connection: SshConnection;
  let session: HostSession;
  const sh = async (command: string) => (await connection.exec(command)).stdout;
  /** The steps of a first apply (nothing there yet), opening 8443/tcp beside SSH. */
  const steps = (rollbackSeconds: number) => {
    const op = nftablesFirewall({ sshPort: 22, rules: [{ protocol: "tcp", port: 8443 }], rollbackSeconds });
    const [write, guarded] = op.plan({
      file: { exists: false },
      table: { live: "", applied: "" },
      published: [],
      sshPort: 22,
    }) as [WriteStep, GuardedStep];
    return { write, guarded };
  };
  const liveHash = () => sh("nft list table inet rigger 2>/dev/null | sha256sum | cut -c1-64");

  beforeAll(async () => {
    connection = await SshConnection.open(testbed().target("th3"));
    session = new HostSession({
      name: "th3",
      connection,
      takeLock: false,
      openAnother: () => SshConnection.open(testbed().target("th3")),
    });
    const installed = await connection.exec(
      "command -v nft || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q nftables; } >/dev/null 2>&1",
    );
    expect(installed.code).toBe(0);
    await sh(`${CLEAN}; install -d -m 700 /etc/rigger`);
  }, 120_000);
  afterAll(async () => {
    await connection?.exec(CLEAN);
    connection?.close();
  });

  it("keeps the new rules when the timer is stopped in time, and records the live table's checksum", async () => {
    const { write, guarded } = steps(30);
    await session.write(write);
    for (const command of [guarded.arm, guarded.apply, guarded.cancel])
      expect((await session.run(command)).code, command).toBe(0);
    expect(await sh("nft list chain inet rigger input")).toContain("tcp dport 8443 accept");
    expect(await sh("cat /var/lib/rigger/firewall-rigger.applied")).toBe(await liveHash());
    expect((await connection.exec("test -f /etc/rigger/firewall-rigger.nft")).code).toBe(0);
    await sh(`${CLEAN}; install -d -m 700 /etc/rigger`);
  });

  it("fails, saying so, when the timer fired before it was stopped: the old rules are live, and that is what is recorded", async () => {
    const { write, guarded } = steps(1);
    await session.write(write);
    for (const command of [guarded.arm, guarded.apply]) expect((await session.run(command)).code).toBe(0);
    // The undo runs while the run is slow to confirm (a lagging link, a slow handshake).
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const cancelled = await session.run(guarded.cancel);
    expect(cancelled.code).not.toBe(0);
    expect(cancelled.stderr).toContain("the undo timer fired before it was stopped: the previous rules are live again");
    expect(await sh("nft list table inet rigger 2>/dev/null")).not.toContain("8443");
    expect(await sh("cat /var/lib/rigger/firewall-rigger.applied")).toBe(await liveHash());
    // Not kept as the confirmed ruleset: the next run applies it again.
    expect((await connection.exec("test -f /etc/rigger/firewall-rigger.nft")).code).not.toBe(0);
  });
});
