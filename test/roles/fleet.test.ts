/**
 * playbooks/site.ts on inventory/fleet's shape, four bare test hosts: a homeserver host (Caddy,
 * Synapse and Element Call stand-ins, the jwt stand-in, Redis), two LiveKit nodes in distributed
 * mode sharing that Redis, and a coturn host. LiveKit, Redis, coturn and Caddy are real.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { SshConnection } from "../../src/connection/ssh.js";
import { stackClient, type CallOutcome } from "../helpers/matrix-client.js";
import { livekitName } from "../standins/lk-jwt-requests.js";
import { notOk, rigger } from "../helpers/rigger.js";
import { openSecretsStore } from "../../src/inventory/load.js";
import { fleetInventory, NAMES, TEAR_DOWN_STACK, trustTestAcme } from "../helpers/stack.js";
import { describeHosts, pebble } from "../testbed/testbed.js";

const SITE = "playbooks/site.ts";
const FLEET = { homeserver: "th4", sfu: ["th5", "th6"], turn: "th7" };
const HOSTS = [FLEET.homeserver, ...FLEET.sfu, FLEET.turn];

describeHosts("the MatrixRTC stack on a fleet (inventory/fleet's shape)", (testbed) => {
  let inventory: string;
  const connections = new Map<string, SshConnection>();
  const on = (host: string) => connections.get(host)!;
  const sh = async (host: string, command: string) => (await on(host).exec(command)).stdout;
  const ip = (host: string) => testbed().hosts.find((h) => h.name === host)!.ip;
  let client: ReturnType<typeof stackClient>;
  /** Can `from` open a TCP connection to `to`:`port`? */
  const reaches = async (from: string, to: string, port: number) =>
    (await on(from).exec(`timeout 3 bash -c 'exec 3<>/dev/tcp/${ip(to)}/${port}'`)).code === 0;
  /** A node's LiveKit config checksum and container id: what a rollout that reached it would change. */
  const nodeState = (host: string) =>
    sh(
      host,
      "sha256sum /etc/matrixrtc/livekit/livekit.yaml; docker inspect -f '{{.Id}} {{.State.StartedAt}}' matrixrtc-livekit",
    );

  beforeAll(async () => {
    // Certificates from the ACME server, as in production: the nodes' webhook to the jwt service goes through Caddy over HTTPS.
    await pebble.resolve(
      [NAMES.matrix_server_name, NAMES.matrix_host, NAMES.livekit_host, NAMES.element_call_host],
      ip(FLEET.homeserver),
    );
    const issuer = await pebble.issuerRoot();
    const acme = [
      "caddy_tls: acme",
      `caddy_acme_ca: ${pebble.directory}`,
      `caddy_acme_ca_root: ${JSON.stringify(pebble.directoryRoot())}`,
      `livekit_ca_certificates: ${JSON.stringify(issuer)}`,
    ];
    // Debug logs: the nodes then say which of them carried each participant's signalling.
    inventory = fleetInventory(testbed(), FLEET, ["livekit_log_level: debug", ...acme]);
    for (const host of HOSTS) connections.set(host, await SshConnection.open(testbed().target(host)));
    await trustTestAcme(on(FLEET.homeserver), issuer);
    const rootFile = join(inventory, "acme-issuer-root.pem");
    writeFileSync(rootFile, issuer);
    client = stackClient({
      inventory,
      proxyIp: ip(FLEET.homeserver),
      homeserver: () => on(FLEET.homeserver),
      ca: rootFile,
    });
  });
  afterAll(async () => {
    for (const host of HOSTS) await connections.get(host)?.exec(TEAR_DOWN_STACK);
    connections.forEach((c) => c.close());
  });

  it("converges four bare hosts, each role on its group's hosts; a second run changes nothing in one fact batch per play", async () => {
    const started = Date.now();
    const first = await rigger(SITE, "-i", inventory);
    expect(first.code, first.out + first.err).toBe(0);
    console.log(`fleet: bare -> converged in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    expect(first.out).toContain("[th5] livekit | container matrixrtc-livekit: changed");
    expect(first.out).toContain("[th6] livekit | container matrixrtc-livekit: changed");
    expect(first.out).toContain("[th7] coturn | container matrixrtc-coturn: changed");
    expect(first.out).toContain("[th4] redis | container matrixrtc-redis: changed");
    // Nothing of another group's: no LiveKit on the homeserver host, no Synapse on a node.
    expect(first.out).not.toMatch(/\[th4\] livekit|\[th5\] synapse|\[th7\] caddy/);
    const againStarted = Date.now();
    const again = await rigger(SITE, "-i", inventory, "-v");
    expect(again.code).toBe(0);
    expect(notOk(again.out)).toEqual([]);
    console.log(`fleet: no-change run ${Date.now() - againStarted} ms\n${again.out.split("\n").slice(-6).join("\n")}`);
  }, 400_000);

  it("with its store lost, a --limit run and then a full run keep every secret live: no file rewritten, no container restarted", async () => {
    /** Every host's config files and signing key by checksum, and each container's start. */
    const state = async () =>
      Object.fromEntries(
        await Promise.all(
          HOSTS.map(async (host) => [
            host,
            await sh(
              host,
              "find /etc/matrixrtc -type f | sort | xargs sha256sum; docker inspect -f '{{.Name}} {{.State.StartedAt}}' $(docker ps -q) | sort",
            ),
          ]),
        ),
      );
    const storeOf = async () => {
      const store = await openSecretsStore(inventory);
      return Object.fromEntries(store.names().map((name) => [name, String(store.get(name))]));
    };
    const [before, kept] = [await state(), await storeOf()];
    rmSync(join(inventory, "secrets.yaml"));
    const limited = await rigger(SITE, "-i", inventory, "--limit", FLEET.sfu[1]!);
    expect(limited.code, limited.out + limited.err).toBe(0);
    expect(notOk(limited.out)).toEqual([]);
    // The node's secrets, read back from it and the hosts that share them; nothing of the homeserver's yet.
    expect(Object.keys(await storeOf()).sort()).toEqual([
      "livekit_api_key",
      "livekit_api_secret",
      "redis_password",
      "turn_shared_secret",
    ]);
    const full = await rigger(SITE, "-i", inventory);
    expect(full.code, full.out + full.err).toBe(0);
    expect(notOk(full.out)).toEqual([]);
    expect(full.out).toMatch(
      /synapse_signing_key: not in the secrets store; adopted from th4 \(\/etc\/matrixrtc\/synapse\/signing\.key\)/,
    );
    expect(await storeOf()).toEqual(kept);
    expect(await state()).toEqual(before);
  }, 300_000);

  it("admits only the LiveKit nodes to Redis, and only the Caddy host to each node's API", async () => {
    const [node1, node2] = FLEET.sfu as [string, string];
    expect(await reaches(node1, FLEET.homeserver, 6379)).toBe(true);
    expect(await reaches(node2, FLEET.homeserver, 6379)).toBe(true);
    expect(await reaches(FLEET.turn, FLEET.homeserver, 6379)).toBe(false);
    expect(await reaches(FLEET.homeserver, node1, 7880)).toBe(true);
    expect(await reaches(FLEET.turn, node1, 7880)).toBe(false);
    expect(await reaches(node2, node1, 7880)).toBe(false);
    // Media stays open to everyone.
    expect(await reaches(FLEET.turn, node1, 7881)).toBe(true);
    // Both nodes joined the cluster through Redis.
    for (const node of FLEET.sfu)
      expect(await sh(node, "docker logs matrixrtc-livekit 2>&1 | grep -c 'connecting to redis'")).not.toBe("0\n");
  });

  it("passes verify.ts, whose report holds every host's checks with their evidence", async () => {
    const dir = mkdtempSync(join(tmpdir(), "rigger-fleet-report-"));
    const result = await rigger("playbooks/verify.ts", "-i", inventory, "--report", dir);
    expect(result.code, result.out).toBe(0);
    const report = JSON.parse(readFileSync(join(dir, "report.json"), "utf8")) as {
      checks: Array<{ host: string; check: string; passed: boolean }>;
    };
    expect(report.checks.every((c) => c.passed)).toBe(true);
    expect(new Set(report.checks.map((c) => c.host))).toEqual(new Set(HOSTS));
    expect(report.checks.filter((c) => c.host === "th5").map((c) => c.check)).toContain(
      "livekit creates no room by itself (room.auto_create: false)",
    );
    expect(report.checks.filter((c) => c.host === "th4").map((c) => c.check)).toContain(
      "redis is published to the livekit nodes only",
    );
    console.log(`fleet: verify.ts ${report.checks.length} checks, all passed`);
    rmSync(dir, { recursive: true });
  });

  it("carries a call whose signalling goes through one node while the room and its media are on the other", async () => {
    const room = `!fleet-${Date.now()}:example.test`;
    const [publisher, subscriber] = await client.twoUsersIn(room);
    const outcome = await client.call({ publisher, subscriber });
    expect(outcome).toMatchObject({ ok: true });
    expect(outcome.received).toBeGreaterThanOrEqual(50);
    // The room's node is where the media went; the other node relayed a participant's signalling to it.
    const media = FLEET.sfu.find((node) => outcome.icePath === `udp ${ip(node)}:7882`);
    expect(media, outcome.icePath).toBeDefined();
    const other = FLEET.sfu.find((node) => node !== media)!;
    // LiveKit knows the room by the name the jwt service gives it: a hash of the Matrix room and the slot.
    expect(
      await sh(
        other,
        `docker logs matrixrtc-livekit 2>&1 | grep 'starting signal connection' | grep -cF '${livekitName(room, "m.call#ROOM")}'`,
      ),
    ).not.toBe("0\n");
    // The same proof from verify.ts, with its own users.
    const verify = await client.withNames([
      "node_modules/.bin/tsx",
      "run.ts",
      "playbooks/verify.ts",
      "-i",
      inventory,
      "-e",
      "call_probe=true",
      "--limit",
      FLEET.homeserver,
    ]);
    expect(verify.exitCode, verify.stdout).toBe(0);
    expect(verify.stdout).toMatch(/\[th4\] call_probe \| verify: a two-party call carries media .*: ok/);
    console.log(
      `fleet call: ${outcome.received} frames, first after ${outcome.firstFrameMs} ms, media on ${media} (${outcome.icePath}), signalling also through ${other}`,
    );
  }, 60_000);

  it("has no call when the media ports are closed at the firewall, and the probe says why in one line", async () => {
    // A table of the test's own, before rigger's and Docker's: the nodes' ICE ports and the TURN server dropped.
    const block = (hook: string, rules: string[]) =>
      [
        `nft add table inet blocktest`,
        `nft add chain inet blocktest ${hook} '{ type filter hook ${hook} priority -10; policy accept; }'`,
        ...rules.map((r) => `nft add rule inet blocktest ${hook} ${r} drop`),
      ].join(" && ");
    const unblock = "nft delete table inet blocktest 2>/dev/null; true";
    for (const node of FLEET.sfu) await sh(node, block("forward", ["udp dport 7882", "tcp dport 7881"]));
    await sh(FLEET.turn, block("input", ["udp dport 3478", "tcp dport 3478"]));
    try {
      const [publisher, subscriber] = await client.twoUsersIn(`!blocked-${Date.now()}:example.test`);
      const outcome = await client.call({ publisher, subscriber, timeoutMs: 15_000 });
      expect(outcome.ok).toBe(false);
      expect(outcome.error).toMatch(/^no media/);
      expect(outcome.error).not.toContain("\n");
      console.log(`media ports closed: ${outcome.error}`);
    } finally {
      for (const host of [...FLEET.sfu, FLEET.turn]) await sh(host, unblock);
    }
  }, 90_000);

  it("stops a rolling rollout at a node that breaks in the first batch, leaving the other node untouched", async () => {
    const [node1, node2] = FLEET.sfu as [string, string];
    const before = await nodeState(node2);
    mkdirSync(join(inventory, "host_vars"), { recursive: true });
    const broken = join(inventory, "host_vars", `${node1}.yaml`);
    writeFileSync(broken, "livekit_image: 172.30.0.1:5000/livekit-server:no-such-tag\n");
    const json = join(inventory, "rollout.json");
    try {
      const result = await rigger(SITE, "-i", inventory, "-e", "livekit_log_level=info", "--json", json);
      expect(result.code).toBe(2);
      expect(result.out).toContain(
        'warning: rollout of play "sfu" stopped after batch 1: 1 of its 1 hosts failed (budget 0%)',
      );
      expect(result.out).toContain(
        `[${node2}] UNTOUCHED from play "sfu" on: the rollout stopped before this host's turn`,
      );
      const hosts = JSON.parse(readFileSync(json, "utf8")).hosts as Array<{ host: string; status: string }>;
      expect(Object.fromEntries(hosts.map((h) => [h.host, h.status]))).toEqual({
        th4: "untouched",
        th5: "failed",
        th6: "untouched",
        th7: "untouched",
      });
      expect(await nodeState(node2)).toBe(before);
      expect(result.out).toMatch(
        new RegExp(
          `\\[${node1}\\] livekit \\| template /etc/matrixrtc/livekit/livekit\\.yaml: failed: [\\s\\S]*no-such-tag`,
        ),
      );
    } finally {
      rmSync(broken);
    }
    // Mended, the same command finishes the rollout. node1's new config never went live: LiveKit's
    // parser, run from the image it was for, could not be had, so the old file stayed; it goes now.
    const node1Before = await nodeState(node1);
    const mended = await rigger(SITE, "-i", inventory, "-e", "livekit_log_level=info");
    expect(mended.code, mended.out).toBe(0);
    expect(mended.out).toContain(`[${node1}] livekit | template /etc/matrixrtc/livekit/livekit.yaml: changed`);
    expect(mended.out).toContain(`[${node1}] livekit | handler: restart livekit: changed`);
    expect(mended.out).toContain(`[${node2}] livekit | template /etc/matrixrtc/livekit/livekit.yaml: changed`);
    expect(await nodeState(node1)).not.toBe(node1Before);
    expect(await nodeState(node2)).not.toBe(before);
  }, 180_000);

  it("restarts a node drain-aware: the restart waits while a call is on it and goes on when the call ends", async () => {
    const room = `!drain-${Date.now()}:example.test`;
    const [publisher, subscriber] = await client.twoUsersIn(room);
    // A call that stays 15 s after its media flowed; the rollout starts while it is on.
    const call: Promise<CallOutcome> = client.call({ publisher, subscriber, holdMs: 15_000 });
    await new Promise((r) => setTimeout(r, 4000));
    const started = Date.now();
    const result = await rigger(SITE, "-i", inventory, "--limit", "sfu", "-e", "livekit_log_level=debug");
    const took = Date.now() - started;
    const outcome = await call;
    expect(result.code, result.out).toBe(0);
    // The call went on through the restarts, media on its node all along.
    expect(outcome).toMatchObject({ ok: true });
    const media = FLEET.sfu.find((node) => outcome.icePath === `udp ${ip(node)}:7882`)!;
    expect(media, `the call's media went over ${outcome.icePath}`).toBeDefined();
    expect(result.out).toContain(
      `[${media}] livekit | handler: restart livekit: draining: waiting up to 600 s for the calls on this node to end before the restart`,
    );
    const drained = new RegExp(
      `\\[${media}\\] livekit \\| handler: restart livekit: drained in (\\d+) s, then started`,
    ).exec(result.out);
    expect(drained, result.out).not.toBeNull();
    expect(Number(drained![1])).toBeGreaterThanOrEqual(8);
    expect(took).toBeGreaterThanOrEqual(8000);
    console.log(`drain: the node with the call drained in ${drained![1]} s; the rollout took ${took} ms`);
  }, 120_000);

  it("forces a restart when the drain time runs out, and says so", async () => {
    const room = `!forced-${Date.now()}:example.test`;
    const [publisher, subscriber] = await client.twoUsersIn(room);
    const call = client.call({ publisher, subscriber, holdMs: 20_000 });
    await new Promise((r) => setTimeout(r, 4000));
    const vars = join(inventory, "short-drain.yaml");
    writeFileSync(vars, "livekit_drain_seconds: 3\nlivekit_log_level: info\n");
    const result = await rigger(SITE, "-i", inventory, "--limit", "sfu", "-e", `@${vars}`);
    await call;
    expect(result.code, result.out).toBe(0);
    expect(result.out).toMatch(
      /handler: restart livekit: calls still going after [34] s: stopped by force, then started/,
    );
  }, 120_000);
});
