/**
 * The real engine over a faulty link: the whole MatrixRTC stack on one host, reached through
 * Toxiproxy (test/testbed/toxiproxy.sh) at 127.0.0.1 on another port, as through a port-forward.
 * Latency, a crawl, a stall, a cut mid-write and a controller that vanished are Toxiproxy's
 * toxics on that link; the host itself is watched over a direct connection of its own.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, expect, it } from "vitest";
import { SshConnection } from "../../src/connection/ssh.js";
import { notOk, rigger } from "../helpers/rigger.js";
import { stackInventory, TEAR_DOWN_STACK } from "../helpers/stack.js";
import { describeHosts, throughToxiproxy, toxiproxy } from "../testbed/testbed.js";

const SITE = "playbooks/site.ts";
const HOST = "th8";
const HOMESERVER_YAML = "/etc/matrixrtc/synapse/homeserver.yaml";
const TURNSERVER_CONF = "/etc/matrixrtc/coturn/turnserver.conf";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeHosts("faulty links: the stack on one host through Toxiproxy", (testbed) => {
  /** Through the proxy, as a far-away operator reaches the host. */
  let proxied: string;
  /** The same host and settings, reached directly (for runs while the proxied link is dark). */
  let direct: string;
  let host: SshConnection;
  const children: ChildProcess[] = [];
  /** Runs stopped on purpose: ended when the suite is. */
  const vanished: number[] = [];
  const sh = async (command: string) => (await host.exec(command)).stdout;
  /** Forgets who held the host's lock last, so that lockTaken sees only the next run. */
  const forgetHolder = () => sh("rm -f /run/rigger/holder");
  /** Waits until a run has taken the host's lock (it has reached the host); returns its pid on the controller. */
  const lockTaken = async () => {
    for (let i = 0; i < 600; i++) {
      const pid = /rigger pid (\d+) /.exec(await sh("cat /run/rigger/holder 2>/dev/null"))?.[1];
      if (pid) return Number(pid);
      await sleep(50);
    }
    throw new Error(`no run took the lock of ${HOST}`);
  };
  const temporaries = () => sh("ls -a /etc/matrixrtc/synapse /etc/matrixrtc/coturn /tmp | grep '^\\.rigger-' || true");

  beforeAll(async () => {
    direct = stackInventory(testbed(), HOST);
    proxied = stackInventory(testbed(), HOST);
    throughToxiproxy(testbed(), proxied, HOST);
    host = await SshConnection.open(testbed().target(HOST));
    await toxiproxy.reset();
  });
  afterEach(async () => {
    await toxiproxy.reset();
  });
  afterAll(async () => {
    for (const pid of vanished) {
      try {
        process.kill(pid, "SIGKILL");
      } catch {
        // already gone
      }
    }
    for (const child of children) child.kill("SIGKILL");
    // Leave the host open and quiet for the suites after this one.
    await host?.exec(TEAR_DOWN_STACK);
    host?.close();
  });

  it("deploys the stack to a host reached through a port-forward, and its firewall keeps the port sshd serves, not the forward's", async () => {
    const first = await rigger(SITE, "-i", proxied);
    expect(first.code, first.out + first.err).toBe(0);
    const input = await sh("nft list chain inet rigger input");
    expect(input).toContain('tcp dport 22 accept comment "ssh"');
    expect(input).not.toContain(String(toxiproxy.port(HOST)));
    // A new connection through the forward still gets in.
    expect((await rigger(SITE, "-i", proxied, "--check", "--fail-on-change")).code).toBe(0);
    // Both ways to the host deploy the same secrets.
    for (const file of ["secrets.yaml", "secrets.recipients"]) copyFileSync(join(proxied, file), join(direct, file));
  }, 900_000);

  it("makes a no-change run over 150 ms of latency with 50 ms of jitter and 256 KB/s in one round trip", async () => {
    for (const stream of ["upstream", "downstream"] as const) {
      await toxiproxy.add(HOST, { type: "latency", stream, attributes: { latency: 150, jitter: 50 } });
      await toxiproxy.add(HOST, { type: "bandwidth", stream, attributes: { rate: 256 } });
    }
    const report = join(proxied, "slow.json");
    const started = Date.now();
    const run = await rigger(SITE, "-i", proxied, "--json", report);
    expect(run.code, run.out + run.err).toBe(0);
    expect(notOk(run.out)).toEqual([]);
    const [summary] = (
      JSON.parse(readFileSync(report, "utf8")) as {
        hosts: Array<{ host: string; roundTrips: number; changed: number }>;
      }
    ).hosts;
    expect(summary).toMatchObject({ host: HOST, roundTrips: 1, changed: 0 });
    // The latency was there: the handshake alone is several round trips of 300 ms.
    expect(Date.now() - started).toBeGreaterThan(1500);
  }, 120_000);

  it("survives a 20 s stall in the middle of a run that changes a config, and finishes it", async () => {
    const wanted = await sh(`sha256sum ${TURNSERVER_CONF}`);
    await sh(`echo '# drift' >> ${TURNSERVER_CONF}`);
    await forgetHolder();
    const started = Date.now();
    const run = rigger(SITE, "-i", proxied);
    await lockTaken();
    // Nothing passes either way for 20 s, and nothing is lost: a Wi-Fi roam, a VPN rekey.
    const stalls = await Promise.all(
      (["upstream", "downstream"] as const).map((stream) =>
        toxiproxy.add(HOST, { type: "latency", stream, attributes: { latency: 120_000 } }),
      ),
    );
    await sleep(20_000);
    for (const name of stalls) await toxiproxy.remove(HOST, name);
    const result = await run;
    expect(result.code, result.out + result.err).toBe(0);
    expect(Date.now() - started).toBeGreaterThanOrEqual(20_000);
    expect(result.out).toContain(`[${HOST}] coturn | template ${TURNSERVER_CONF}: changed`);
    expect(result.out).toContain(`[${HOST}] coturn | handler: restart coturn: changed`);
    expect(await sh(`sha256sum ${TURNSERVER_CONF}`)).toBe(wanted);
  }, 180_000);

  it("leaves the old homeserver.yaml or the new one, never a prefix, when the link is cut in the middle of writing it; the next run converges and restarts", async () => {
    const wanted = await sh(`sha256sum < ${HOMESERVER_YAML}`);
    await sh(`printf '# drift\\n' >> ${HOMESERVER_YAML}`);
    const drifted = await sh(`sha256sum < ${HOMESERVER_YAML}`);
    const size = Number(await sh(`stat -c %s ${HOMESERVER_YAML}`));
    const synapseStarted = () => sh("docker inspect -f '{{.State.StartedAt}}' matrixrtc-synapse");
    const before = await synapseStarted();

    await forgetHolder();
    const run = rigger(SITE, "-i", proxied);
    await lockTaken();
    // The upload crawls at 4 KB/s: the write's content, one SSH packet, takes about 400 ms to cross.
    await toxiproxy.add(HOST, { type: "bandwidth", stream: "upstream", attributes: { rate: 4 } });
    let started = false;
    for (let i = 0; i < 1200 && !started; i++) {
      // The temporary exists and is not whole: the write has begun and its content is on the wire.
      const seen = (
        await sh("stat -c %s /etc/matrixrtc/synapse/.rigger-*-homeserver.yaml 2>/dev/null | head -n 1")
      ).trim();
      if (seen !== "" && Number(seen) < size - 100) started = true;
      else await sleep(20);
    }
    expect(started, "the write was seen begun and not done on the host").toBe(true);
    // Cut in the middle of the content: the proxy closes the link after one more byte from the controller.
    await toxiproxy.add(HOST, { type: "limit_data", stream: "upstream", attributes: { bytes: 1 } });
    const cut = await run;
    expect(cut.code, cut.out + cut.err).toBe(4);
    expect(cut.out).toMatch(new RegExp(`\\[${HOST}\\] UNREACHABLE`));
    // The host's side ends once sshd sees the channel go: the file is whole, old or new, and no temporary is left.
    let left = "";
    for (let i = 0; i < 100 && (left = await temporaries()); i++) await sleep(100);
    expect(left).toBe("");
    expect([drifted, wanted]).toContain(await sh(`sha256sum < ${HOMESERVER_YAML}`));

    await toxiproxy.reset();
    const next = await rigger(SITE, "-i", proxied);
    expect(next.code, next.out + next.err).toBe(0);
    expect(await sh(`sha256sum < ${HOMESERVER_YAML}`)).toBe(wanted);
    expect(next.out).toContain(`[${HOST}] synapse | handler: restart synapse: changed`);
    expect(await synapseStarted()).not.toBe(before);
  }, 300_000);

  it("reports a host whose link is reset mid-run unreachable (exit 4), and the next run converges", async () => {
    await sh(`echo '# drift again' >> ${TURNSERVER_CONF}`);
    await forgetHolder();
    // A slow link, so that the run is surely still going when the reset comes.
    await toxiproxy.add(HOST, { type: "latency", stream: "downstream", attributes: { latency: 500 } });
    const run = rigger(SITE, "-i", proxied);
    await lockTaken();
    await toxiproxy.add(HOST, { type: "reset_peer", stream: "upstream", attributes: { timeout: 0 } });
    const reset = await run;
    expect(reset.code, reset.out + reset.err).toBe(4);
    expect(reset.out).toMatch(new RegExp(`\\[${HOST}\\] UNREACHABLE: ${HOST} is unreachable`));
    await toxiproxy.reset();
    const next = await rigger(SITE, "-i", proxied);
    expect(next.code, next.out + next.err).toBe(0);
    expect(await sh(`grep -c '# drift' ${TURNSERVER_CONF} || true`)).toBe("0\n");
    expect(await temporaries()).toBe("");
  }, 180_000);

  it("fetches a backup whole through a 10 s stall; one cut mid-download leaves no partial file here, and the next fetch is whole", async () => {
    // Media that does not compress: the archive takes seconds to come down at 256 KB/s.
    await sh("head -c 3000000 /dev/urandom > /var/lib/matrixrtc/synapse/media-sample.bin");
    const fetchDir = mkdtempSync(join(tmpdir(), "rigger-fetch-"));
    const fetched = (suffix: string) =>
      existsSync(join(fetchDir, HOST)) ? readdirSync(join(fetchDir, HOST)).filter((f) => f.endsWith(suffix)) : [];
    const backup = () => rigger("playbooks/backup.ts", "-i", proxied, "-e", `backup_fetch_dir=${fetchDir}`);
    /** Until the download has begun: its partial file here holds some of the archive. */
    const downloading = async () => {
      for (let i = 0; i < 1200; i++) {
        const [partial] = fetched(".partial");
        if (partial && statSync(join(fetchDir, HOST, partial)).size > 0) return;
        await sleep(25);
      }
      throw new Error("the download was never seen begun");
    };

    await toxiproxy.add(HOST, { type: "bandwidth", stream: "downstream", attributes: { rate: 256 } });
    const cutRun = backup();
    await downloading();
    await toxiproxy.add(HOST, { type: "limit_data", stream: "downstream", attributes: { bytes: 1 } });
    const cut = await cutRun;
    expect(cut.code, cut.out + cut.err).toBeGreaterThanOrEqual(2);
    expect(cut.out).toMatch(new RegExp(`\\[${HOST}\\] (UNREACHABLE|FAILED)`));
    expect([...fetched(".partial"), ...fetched(".tar.gz")]).toEqual([]);
    await toxiproxy.reset();

    await toxiproxy.add(HOST, { type: "bandwidth", stream: "downstream", attributes: { rate: 256 } });
    const stalledRun = backup();
    await downloading();
    const stalls = await Promise.all(
      (["upstream", "downstream"] as const).map((stream) =>
        toxiproxy.add(HOST, { type: "latency", stream, attributes: { latency: 120_000 } }),
      ),
    );
    expect(fetched(".tar.gz"), "the stall began before the download was done").toEqual([]);
    await sleep(10_000);
    for (const name of stalls) await toxiproxy.remove(HOST, name);
    const whole = await stalledRun;
    expect(whole.code, whole.out + whole.err).toBe(0);
    const [archive] = fetched(".tar.gz");
    expect(fetched(".partial")).toEqual([]);
    const local = readFileSync(join(fetchDir, HOST, archive!));
    expect(local.length).toBeGreaterThan(3_000_000);
    expect(await sh(`sha256sum < /var/backups/matrixrtc/${archive}`)).toContain(
      createHash("sha256").update(local).digest("hex"),
    );
    await sh("rm -f /var/lib/matrixrtc/synapse/media-sample.bin");
  }, 300_000);

  it("names the holder of a lock left by a controller that vanished without closing TCP, and --break-lock frees it", async () => {
    // A run in a process of its own, which then goes dark: its link drops everything and it is
    // frozen, so neither side ever closes the TCP connection (a laptop that lost its network).
    await forgetHolder();
    const child = spawn(process.execPath, ["--import", "tsx", "run.ts", SITE, "-i", proxied], { stdio: "ignore" });
    children.push(child);
    // The run's own process (run.ts may hand it to a plain Node process of its own).
    const pid = await lockTaken();
    vanished.push(pid);
    await Promise.all(
      (["upstream", "downstream"] as const).map((stream) =>
        toxiproxy.add(HOST, { type: "timeout", stream, attributes: { timeout: 0 } }),
      ),
    );
    process.kill(pid, "SIGSTOP");

    const blocked = await rigger(SITE, "-i", direct);
    expect(blocked.code).toBe(2);
    expect(blocked.out).toMatch(
      new RegExp(
        `\\[${HOST}\\] FAILED: ${HOST} is being changed by another run \\(rigger pid ${pid} on .+, host pid \\d+\\).*--break-lock ${HOST}`,
      ),
    );

    const broken = await rigger(SITE, "-i", direct, "--break-lock", HOST);
    expect(broken.code, broken.out + broken.err).toBe(0);
    expect(broken.out).toMatch(
      new RegExp(`\\[${HOST}\\] --break-lock: ended the run that held the lock \\(rigger pid ${pid} `),
    );
    expect(await sh("cat /run/rigger/holder")).toContain(`rigger pid ${process.pid} `);
  }, 180_000);
});
