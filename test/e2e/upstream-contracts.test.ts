/**
 * The stack as production runs it, against the upstream contracts (test/standins/README.md), end to
 * end through Caddy: certificates from an ACME server (Pebble, as Let's Encrypt would issue them),
 * Element Call's two token modes landing in one LiveKit room, the delegated leave driven by
 * LiveKit's webhook, a browser's cross-origin preflight, and the error contracts of the jwt service
 * and Synapse. Caddy, LiveKit, coturn and Pebble are real; Synapse, lk-jwt-service and Element Call
 * are the stand-ins (test/standins/), which follow the upstream sources as the README there records.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { connect, type PeerCertificate } from "node:tls";
import { afterAll, beforeAll, expect, it } from "vitest";
import { SshConnection } from "../../src/connection/ssh.js";
import { livekitName } from "../standins/lk-jwt-requests.js";
import { stackClient, type MatrixUser } from "../helpers/matrix-client.js";
import { rigger } from "../helpers/rigger.js";
import { NAMES, stackInventory, TEAR_DOWN_STACK, trustTestAcme } from "../helpers/stack.js";
import { describeHosts, pebble } from "../testbed/testbed.js";

const HOST = "th3";
/** The names Caddy serves (turn_host is coturn's). */
const SERVED = [NAMES.matrix_server_name, NAMES.matrix_host, NAMES.livekit_host, NAMES.element_call_host];
const MEMBER_EVENT = "org.matrix.msc3401.call.member";
/** The delayed leave's timeout: far longer than the bound the leave is held to, so only the jwt service can have sent it in time. */
const DELAY_MS = 120_000;
const LEAVE_BOUND_MS = 45_000;

const claims = (jwt: string) =>
  JSON.parse(Buffer.from(jwt.split(".")[1]!, "base64url").toString()) as {
    sub: string;
    video: Record<string, unknown>;
  };

/** The certificate the address serves for a name, and whether it chains to the given root. */
function served(
  address: string,
  name: string,
  root: string,
): Promise<{ authorized: boolean; certificate: PeerCertificate }> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: address, port: 443, servername: name, ca: root, rejectUnauthorized: false }, () => {
      resolve({ authorized: socket.authorized, certificate: socket.getPeerCertificate() });
      socket.end();
    });
    socket.on("error", reject);
  });
}

describeHosts(
  "the stack with ACME certificates, against the upstream contracts, end to end through Caddy",
  (testbed) => {
    let host: SshConnection;
    let client: ReturnType<typeof stackClient>;
    let inventory: string;
    let issuerRoot: string;
    let ip: string;

    /** A Matrix room the users share, created by the first and joined by the others (through Caddy). */
    async function sharedRoom(users: MatrixUser[]): Promise<string> {
      const { room_id } = await client.matrix(users[0]!, "POST", "/_matrix/client/v3/createRoom", {});
      for (const user of users.slice(1))
        expect(
          (await client.matrix(user, "POST", `/_matrix/client/v3/join/${encodeURIComponent(room_id)}`, {})).room_id,
        ).toBe(room_id);
      return room_id as string;
    }

    beforeAll(async () => {
      ip = testbed().hosts.find((h) => h.name === HOST)!.ip;
      await pebble.resolve(SERVED, ip);
      issuerRoot = await pebble.issuerRoot();
      inventory = stackInventory(
        testbed(),
        HOST,
        [
          "caddy_tls: acme",
          `caddy_acme_ca: ${pebble.directory}`,
          `caddy_acme_ca_root: ${JSON.stringify(pebble.directoryRoot())}`,
        ].join("\n"),
      );
      const rootFile = join(inventory, "acme-issuer-root.pem");
      writeFileSync(rootFile, issuerRoot);
      host = await SshConnection.open(testbed().target(HOST));
      await trustTestAcme(host, issuerRoot);
      client = stackClient({ inventory, proxyIp: ip, homeserver: () => host, ca: rootFile });
      const deployed = await rigger("playbooks/site.ts", "-i", inventory);
      expect(deployed.code, deployed.out).toBe(0);
    }, 300_000);
    afterAll(async () => {
      await host?.exec(TEAR_DOWN_STACK);
      host?.close();
    });

    it("serves every hostname with a certificate the ACME server issued, and verify.ts proves the stack and a call", async () => {
      for (const name of SERVED) {
        const { authorized, certificate } = await served(ip, name, issuerRoot);
        expect(authorized, name).toBe(true);
        expect(certificate.subjectaltname, name).toContain(`DNS:${name}`);
        expect(certificate.issuer.CN, name).toMatch(/^Pebble Intermediate CA/);
      }
      const verify = await client.withNames([
        "node_modules/.bin/tsx",
        "run.ts",
        "playbooks/verify.ts",
        "-i",
        inventory,
        "-e",
        "call_probe=true",
      ]);
      expect(verify.exitCode, verify.stdout + verify.stderr).toBe(0);
      expect(verify.stdout).toContain(`[${HOST}] caddy | verify: every hostname has a certificate clients trust: ok`);
      expect(verify.stdout).toContain(
        `[${HOST}] call_probe | verify: a two-party call carries media (Matrix users, OpenID, the jwt service, LiveKit): ok`,
      );
      expect(verify.stdout).toContain(
        `[${HOST}] livekit_webhook | verify: livekit delivers its webhook to the jwt service: ok`,
      );
    }, 120_000);

    it("puts a compatibility client (/sfu/get) and a matrix_2_0 client (/get_token) of one Matrix room in one LiveKit room, and they hear each other", async () => {
      const stamp = Date.now();
      const [ana, bo] = await Promise.all([client.register(`ana${stamp}`), client.register(`bo${stamp}`)]);
      const room = await sharedRoom([ana!, bo!]);
      const legacy = await client.grant(ana!, room, "ANADEVICE");
      const modern = await client.grantToken(bo!, room, { id: "bo-member-1", device: "BODEVICE" });
      const alias = livekitName(room, "m.call#ROOM");
      expect(claims(legacy.jwt).video).toMatchObject({
        room: alias,
        roomJoin: true,
        canPublish: true,
        canSubscribe: true,
        canUpdateOwnMetadata: true,
      });
      expect(claims(modern.jwt).video.room).toBe(alias);
      expect(claims(legacy.jwt).sub).toBe(`${ana!.user_id}:ANADEVICE`);
      expect(claims(modern.jwt).sub).toBe(livekitName(bo!.user_id, "BODEVICE", "bo-member-1"));
      expect(claims(modern.jwt).video.roomCreate).toBeUndefined();
      const outcome = await client.call({ publisher: legacy, subscriber: modern });
      expect(outcome, outcome.error).toMatchObject({ ok: true });
    }, 60_000);

    it(`sends a crashed participant's delayed leave when LiveKit reports them gone, within ${LEAVE_BOUND_MS / 1000} s: long before the homeserver would`, async () => {
      const cy = await client.register(`cy${Date.now()}`);
      const room = await sharedRoom([cy]);
      const stateKey = `_${cy.user_id}_CYDEVICE_m.call`;
      const statePath = `/_matrix/client/v3/rooms/${encodeURIComponent(room)}/state/${MEMBER_EVENT}/${encodeURIComponent(stateKey)}`;
      // As Element Call 0.24 does: the leave scheduled first, then the membership, then the token with the leave handed over.
      const { delay_id } = await client.matrix(cy, "PUT", `${statePath}?org.matrix.msc4140.delay=${DELAY_MS}`, {});
      expect(delay_id).toMatch(/^syd_/);
      expect(
        (
          await client.matrix(cy, "PUT", statePath, {
            application: "m.call",
            call_id: "",
            device_id: "CYDEVICE",
            focus_active: { type: "livekit" },
          })
        ).event_id,
      ).toBeTruthy();
      const granted = await client.grantToken(
        cy,
        room,
        { id: "cy-member-1", device: "CYDEVICE" },
        { delay_id, delay_timeout: DELAY_MS },
      );
      const identity = livekitName(cy.user_id, "CYDEVICE", "cy-member-1");
      expect(claims(granted.jwt).sub).toBe(identity);

      const participant = await client.hold(granted);
      await participant.joined;
      // The jwt service hears of the join and keeps the leave from firing: it restarts the delayed event.
      const delayed = "/_matrix/client/unstable/org.matrix.msc4140/delayed_events";
      const listed = async () =>
        (
          (await client.matrix(cy, "GET", delayed)).delayed_events as Array<{ delay_id: string; running_since: number }>
        ).find((d) => d.delay_id === delay_id);
      const joinedAt = Date.now();
      await expect
        .poll(async () => (await listed())?.running_since ?? 0, { timeout: 15_000, interval: 500 })
        .toBeGreaterThanOrEqual(joinedAt - 1000);
      expect((await client.matrix(cy, "GET", statePath)).application).toBe("m.call");

      const killed = Date.now();
      participant.kill();
      // Far sooner than the homeserver's own timer (DELAY_MS): only the jwt service, told by LiveKit, could have sent it.
      await expect
        .poll(async () => (await client.matrix(cy, "GET", statePath)).application ?? "left", {
          timeout: LEAVE_BOUND_MS,
          interval: 250,
        })
        .toBe("left");
      const tookMs = Date.now() - killed;
      expect(await listed()).toBeUndefined();
      console.log(
        `delegated leave: sent ${tookMs} ms after the participant's process was killed (delayed event timeout ${DELAY_MS} ms)`,
      );
    }, 120_000);

    it("serves Element Call's app for any path of its origin, as its image's nginx does (the app routes /room/... itself), and its config.json as it is", async () => {
      const page = await client.throughCaddy(
        NAMES.element_call_host,
        "/room/!abc:example.test",
        "-w",
        "\n%{http_code} %{content_type}",
      );
      expect(page.stdout).toMatch(/^<!doctype html>[\s\S]*\n200 text\/html/);
      expect(
        JSON.parse((await client.throughCaddy(NAMES.element_call_host, "/config.json")).stdout).matrix_rtc_mode,
      ).toBeDefined();
    });

    it("answers a browser's cross-origin preflight from Element Call's origin, and the token request that follows", async () => {
      const origin = `https://${NAMES.element_call_host}`;
      const preflight = await client.throughCaddy(
        NAMES.matrix_host,
        "/_livekit/get_token",
        "-i",
        "-X",
        "OPTIONS",
        "-H",
        `Origin: ${origin}`,
        "-H",
        "Access-Control-Request-Method: POST",
        "-H",
        "Access-Control-Request-Headers: content-type",
      );
      const head = preflight.stdout.replace(/\r/g, "").toLowerCase();
      expect(head).toMatch(/^http\/\S+ 200/);
      expect(head).toContain("access-control-allow-origin: *\n");
      expect(head).toMatch(/access-control-allow-methods: .*post/);
      expect(head).toMatch(/access-control-allow-headers: .*content-type/);
      const user = await client.register(`dee${Date.now()}`);
      const body = JSON.stringify({
        room: "!cors:example.test",
        openid_token: await client.openidToken(user),
        device_id: "D",
      });
      const post = await client.throughCaddy(
        NAMES.matrix_host,
        "/_livekit/sfu/get",
        "-i",
        "-H",
        `Origin: ${origin}`,
        "-H",
        "content-type: application/json",
        "--data",
        body,
      );
      expect(post.stdout.replace(/\r/g, "").toLowerCase()).toContain("access-control-allow-origin: *\n");
      expect(post.stdout).toContain('"jwt":');
    });

    it("keeps the jwt service's error contract: M_NOT_JSON, M_BAD_JSON, 401 for a claim that is not the token's user, 405, 404, delegation for full access only", async () => {
      const user = await client.register(`eve${Date.now()}`);
      const openid = await client.openidToken(user);
      const member = { id: "m", claimed_user_id: user.user_id, claimed_device_id: "D" };
      const post = (path: string, body: unknown) => client.https(NAMES.matrix_host, `/_livekit${path}`, body);
      expect(
        await post("/get_token", {
          room_id: "!r:example.test",
          slot_id: "m.call#ROOM",
          openid_token: openid,
          member,
          colour: "blue",
        }),
      ).toEqual({ errcode: "M_NOT_JSON", error: "Error reading request" });
      expect(await post("/get_token", { room_id: "!r:example.test", openid_token: openid, member })).toEqual({
        errcode: "M_BAD_JSON",
        error: "The request body is missing `room_id` or `slot_id`",
      });
      expect(
        await post("/get_token", {
          room_id: "!r:example.test",
          slot_id: "m.call#ROOM",
          openid_token: openid,
          member,
          delay_id: "x",
        }),
      ).toMatchObject({ errcode: "M_BAD_JSON" });
      expect(
        await post("/get_token", {
          room_id: "!r:example.test",
          slot_id: "m.call#ROOM",
          openid_token: openid,
          member: { ...member, claimed_user_id: "@mallory:example.test" },
        }),
      ).toEqual({
        errcode: "M_UNAUTHORIZED",
        error: "The request could not be authorised.",
      });
      expect(
        await post("/delegate_delayed_leave", {
          room_id: "!r:example.test",
          slot_id: "m.call#ROOM",
          openid_token: openid,
          member,
        }),
      ).toMatchObject({ errcode: "M_BAD_JSON" });
      const status = async (path: string, ...args: string[]) =>
        (await client.throughCaddy(NAMES.matrix_host, path, "-o", "/dev/null", "-w", "%{http_code}", ...args)).stdout;
      expect(await status("/_livekit/get_token")).toBe("405");
      expect(await status("/_livekit/healthz", "-X", "POST")).toBe("405");
      expect(await status("/_livekit/healthz", "-I")).toBe("200");
      expect(await status("/_livekit/no-such-endpoint")).toBe("404");
    });

    it("keeps Synapse's contract: whoami, MSC4143 transports only to signed-in users, no feature it does not have, delayed events by id and cancelled by others' state", async () => {
      const user = await client.register(`fay${Date.now()}`);
      expect(await client.matrix(user, "GET", "/_matrix/client/v3/account/whoami")).toMatchObject({
        user_id: user.user_id,
        is_guest: false,
      });
      const transports = "/_matrix/client/unstable/org.matrix.msc4143/rtc/transports";
      expect(await client.https(NAMES.matrix_host, transports)).toEqual({
        errcode: "M_MISSING_TOKEN",
        error: "Missing access token",
      });
      expect(await client.matrix(user, "GET", transports)).toEqual({
        rtc_transports: [{ type: "livekit", livekit_service_url: `https://${NAMES.matrix_host}/_livekit` }],
      });
      const { unstable_features } = await client.https(NAMES.matrix_host, "/_matrix/client/versions");
      expect(unstable_features).toMatchObject({
        "org.matrix.msc4140": true,
        "org.matrix.msc4143": true,
        "org.matrix.msc4354": true,
      });
      expect(Object.keys(unstable_features)).not.toContain("org.matrix.msc4222");
      const room = await sharedRoom([user]);
      const path = `/_matrix/client/v3/rooms/${encodeURIComponent(room)}/state/m.room.topic/`;
      const { delay_id } = await client.matrix(user, "PUT", `${path}?org.matrix.msc4140.delay=60000`, {
        topic: "later",
      });
      const delayed = "/_matrix/client/unstable/org.matrix.msc4140/delayed_events";
      expect((await client.matrix(user, "GET", delayed)).delayed_events).toEqual([
        expect.objectContaining({ delay_id, room_id: room, type: "m.room.topic", delay: 60000 }),
      ]);
      expect(await client.https(NAMES.matrix_host, `${delayed}/${delay_id}/restart`, {})).toEqual({});
      expect(await client.https(NAMES.matrix_host, `${delayed}/${delay_id}/send`, {})).toEqual({});
      expect((await client.matrix(user, "GET", path)).topic).toBe("later");
      expect(await client.https(NAMES.matrix_host, `${delayed}/${delay_id}/cancel`, {})).toEqual({
        errcode: "M_NOT_FOUND",
        error: "Delayed event not found",
      });
      // Someone else's state at the same key cancels the delayed state events pending there.
      const other = await client.register(`gil${Date.now()}`);
      await client.matrix(other, "POST", `/_matrix/client/v3/join/${encodeURIComponent(room)}`, {});
      const pending = (
        await client.matrix(user, "PUT", `${path}?org.matrix.msc4140.delay=60000`, { topic: "mine, later" })
      ).delay_id;
      await client.matrix(other, "PUT", path, { topic: "theirs, now" });
      // Synapse cancels them as it processes the state change, a moment after it answered the PUT.
      await expect
        .poll(
          async () =>
            ((await client.matrix(user, "GET", delayed)).delayed_events as Array<{ delay_id: string }>).map(
              (d) => d.delay_id,
            ),
          { timeout: 5000 },
        )
        .not.toContain(pending);
      expect(await client.https(NAMES.matrix_host, `${delayed}/${pending}/send`, {})).toMatchObject({
        errcode: "M_NOT_FOUND",
      });
      expect(
        await client.matrix(user, "PUT", `${path}?org.matrix.msc4140.delay=${25 * 3600_000}`, { topic: "too late" }),
      ).toEqual({
        errcode: "M_FORBIDDEN",
        error: `The requested delay (${25 * 3600_000}ms) exceeds the allowed maximum (${24 * 3600_000}ms)`,
      });
    });

    it("with -t livekit runs LiveKit's tasks and checks and nothing else of the site", async () => {
      const tagged = await rigger("playbooks/site.ts", "-i", inventory, "-t", "livekit", "-v");
      expect(tagged.code, tagged.out).toBe(0);
      const roles = new Set(
        [...tagged.out.matchAll(new RegExp(`^\\[${HOST}\\] (\\w+) \\| (?!.*: skipped)`, "gm"))].map((m) => m[1]),
      );
      expect([...roles]).toEqual(["livekit"]);
      expect(tagged.out).toContain(`[${HOST}] livekit | verify: livekit answers OK: ok`);
    });

    it("refuses a livekit_config_extra LiveKit's own parser cannot read, in check mode and in a run, leaving livekit.yaml as it was", async () => {
      const config = "/etc/matrixrtc/livekit/livekit.yaml";
      const before = (await host.exec(`sha256sum ${config}`)).stdout;
      const extra = join(inventory, "bogus-livekit.yaml");
      writeFileSync(extra, "livekit_config_extra: { rtc: { bogus_option: 1 } }\n");
      for (const mode of [["--check"], []]) {
        const refused = await rigger("playbooks/site.ts", "-i", inventory, "-e", `@${extra}`, "-t", "livekit", ...mode);
        expect(refused.code, refused.out).toBe(2);
        expect(refused.out).toContain("field bogus_option not found");
      }
      expect((await host.exec(`sha256sum ${config}`)).stdout).toBe(before);
    });

    it("starts a stopped Caddy with its new config and does not reload it at once: the certificates it orders come before the checks' 30 s", async () => {
      // Its ACME account goes too: Pebble has been seen refusing every request signed with a kept one
      // ("JWS verification error"), which is Pebble's state, not what this test is about.
      await host.exec(
        "systemctl stop caddy && rm -rf /var/lib/caddy/.local/share/caddy/certificates /var/lib/caddy/.local/share/caddy/acme",
      );
      const extra = join(inventory, "caddy-extra.yaml");
      writeFileSync(extra, 'caddy_config_extra: "# a new Caddyfile for a stopped Caddy"\n');
      const started = await rigger("playbooks/site.ts", "-i", inventory, "-e", `@${extra}`, "-t", "caddy");
      expect(started.code, `${started.out}\n${(await host.exec("journalctl -u caddy --no-pager -n 60")).stdout}`).toBe(
        0,
      );
      expect(started.out).toContain(`[${HOST}] caddy | service caddy.service: changed`);
      expect(started.out).toContain(`[${HOST}] caddy | verify: every hostname has a certificate clients trust: ok`);
      for (const name of SERVED) expect((await served(ip, name, issuerRoot)).authorized, name).toBe(true);
    }, 240_000);
  },
);
