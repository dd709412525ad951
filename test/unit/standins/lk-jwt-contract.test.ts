/**
 * The lk-jwt-service stand-in as 0.6.0 behaves, observed over HTTP and in how it starts (the
 * stand-in started as a process). First with a closed local port for a homeserver: a request that
 * gets past validation is refused 401 when its OpenID token cannot be checked, which tells it from
 * one validation refused (400). Then beside a local HTTPS homeserver with no LiveKit: a request
 * that gets past every check is refused 500 at the room's creation, which tells a refusal before
 * it from one after; and what reaches the homeserver's delayed-event API is what the leave did.
 */
import { execFileSync, type ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync } from "node:fs";
import { createServer as createHttpsServer, type Server } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { AccessToken } from "livekit-server-sdk";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { $ } from "zx";
import { livekitName } from "../../standins/lk-jwt-requests.js";
import { call, freePort, started } from "./started.js";

const ENV = {
  LIVEKIT_URL: "ws://127.0.0.1:1",
  LIVEKIT_KEY: "APIkey",
  LIVEKIT_SECRET: "a-secret-of-the-stand-in-test",
  LIVEKIT_FULL_ACCESS_HOMESERVERS: "127.0.0.1:1",
};
let jwt: ChildProcess;
let base: string;

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  // An override whose URL holds "=": cut at the first one only.
  jwt = await started("lk-jwt", {
    ...ENV,
    LIVEKIT_JWT_BIND: `127.0.0.1:${port}`,
    LIVEKIT_CS_API_URL_OVERRIDES: "127.0.0.1:1=http://127.0.0.1:1/?a=b",
  });
}, 30_000);
afterAll(() => void jwt?.kill());

const openid_token = { access_token: "t", token_type: "Bearer", matrix_server_name: "127.0.0.1:1", expires_in: 3600 };
const request = {
  room_id: "!r:example.test",
  slot_id: "m.call#ROOM",
  openid_token,
  member: { id: "m", claimed_user_id: "@u:127.0.0.1:1", claimed_device_id: "D" },
};

it("dies when both LIVEKIT_JWT_BIND and LIVEKIT_JWT_PORT are set", async () => {
  const both = await $({
    nothrow: true,
    env: { PATH: process.env.PATH!, ...ENV, LIVEKIT_JWT_BIND: "127.0.0.1:0", LIVEKIT_JWT_PORT: "8081" },
    timeout: "20s",
  })`node --import tsx test/standins/lk-jwt.ts`;
  expect(both.exitCode).toBe(1);
  expect(both.stderr).toContain("LIVEKIT_JWT_BIND and LIVEKIT_JWT_PORT are both set");
}, 30_000);

it("reads the first JSON value of a body, as Go's decoder does: what follows it is never read", async () => {
  expect(
    await call(base, "POST", "/get_token", `${JSON.stringify({ ...request, room_id: "" })} and then some`),
  ).toEqual({
    status: 400,
    body: { errcode: "M_BAD_JSON", error: "The request body is missing `room_id` or `slot_id`" },
  });
  expect((await call(base, "POST", "/get_token", "{ not json")).body).toEqual({
    errcode: "M_NOT_JSON",
    error: "Error reading request",
  });
});

it("takes delay_id with delay_timeout alone, ignoring delay_cs_api_url (0.6.0 finds the homeserver itself)", async () => {
  const unauthorised = {
    status: 401,
    body: { errcode: "M_UNAUTHORIZED", error: "The request could not be authorised." },
  };
  expect(await call(base, "POST", "/get_token", { ...request, delay_id: "syd_x", delay_timeout: 10_000 })).toEqual(
    unauthorised,
  );
  expect(await call(base, "POST", "/get_token", { ...request, delay_cs_api_url: "https://anywhere.example" })).toEqual(
    unauthorised,
  );
  expect(await call(base, "POST", "/get_token", { ...request, delay_id: "syd_x" })).toEqual({
    status: 400,
    body: { errcode: "M_BAD_JSON", error: "The request body is missing `delay_id` or `delay_timeout`" },
  });
  expect(
    await call(base, "POST", "/delegate_delayed_leave", { ...request, delay_id: "syd_x", delay_timeout: 10_000 }),
  ).toEqual(unauthorised);
});

describe("beside a homeserver (a local HTTPS one, as the jwt service reaches it over federation and the client-server API)", () => {
  const KEY = "APIkey";
  const SECRET = "a-secret-of-the-stand-in-test";
  let homeserver: Server;
  let server: string;
  let jwtBase: string;
  let withJwt: ChildProcess;
  /** What the homeserver's well-known names as its client-server API (undefined: no m.homeserver), and what reached it. */
  const state = {
    baseUrl: undefined as string | undefined,
    restart: 200,
    sent: [] as string[],
    subs: new Map<string, string>(),
  };

  beforeAll(async () => {
    const dir = mkdtempSync(join(tmpdir(), "rigger-homeserver-"));
    execFileSync(
      "openssl",
      [
        "req",
        "-x509",
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:P-256",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-keyout",
        join(dir, "key.pem"),
        "-out",
        join(dir, "cert.pem"),
      ],
      { stdio: "pipe" },
    );
    const port = await freePort();
    server = `127.0.0.1:${port}`;
    homeserver = createHttpsServer(
      { key: readFileSync(join(dir, "key.pem")), cert: readFileSync(join(dir, "cert.pem")) },
      (request, response) => {
        const url = new URL(request.url ?? "/", `https://${server}`);
        const reply = (status: number, body: unknown) =>
          response.writeHead(status, { "content-type": "application/json" }).end(JSON.stringify(body));
        if (url.pathname === "/.well-known/matrix/server") return reply(200, { "m.server": server });
        if (url.pathname === "/.well-known/matrix/client")
          return reply(200, state.baseUrl ? { "m.homeserver": { base_url: state.baseUrl } } : {});
        if (url.pathname === "/_matrix/federation/v1/openid/userinfo") {
          const sub = state.subs.get(url.searchParams.get("access_token") ?? "");
          return sub ? reply(200, { sub }) : reply(401, { errcode: "M_UNKNOWN_TOKEN" });
        }
        const action = /\/delayed_events\/([^/]+)\/(restart|send)$/.exec(url.pathname);
        if (action?.[2] === "send") state.sent.push(action[1]!);
        if (action) return reply(action[2] === "restart" ? state.restart : 200, {});
        reply(404, { errcode: "M_UNRECOGNIZED" });
      },
    );
    await new Promise<void>((resolve) => homeserver.listen(port, "127.0.0.1", resolve));
    const jwtPort = await freePort();
    jwtBase = `http://127.0.0.1:${jwtPort}`;
    withJwt = await started("lk-jwt", {
      LIVEKIT_URL: "ws://127.0.0.1:1",
      LIVEKIT_KEY: KEY,
      LIVEKIT_SECRET: SECRET,
      LIVEKIT_FULL_ACCESS_HOMESERVERS: server,
      LIVEKIT_JWT_BIND: `127.0.0.1:${jwtPort}`,
      LIVEKIT_INSECURE_SKIP_VERIFY_TLS: "YES_I_KNOW_WHAT_I_AM_DOING",
    });
  }, 30_000);
  afterAll(() => {
    withJwt?.kill();
    homeserver?.close();
  });

  /** A request of a user of the homeserver (or of `sub`, another server's user, behind the same token). */
  const asUser = (name: string, sub = `@${name}:${server}`) => {
    state.subs.set(`token-${name}`, sub);
    return {
      ...request,
      openid_token: { ...openid_token, access_token: `token-${name}`, matrix_server_name: server },
      member: { id: `m-${name}`, claimed_user_id: sub, claimed_device_id: "D" },
    };
  };
  /** LiveKit's webhook for that user, signed with the API key as LiveKit signs it. */
  async function webhook(event: string, user: ReturnType<typeof asUser>) {
    const body = JSON.stringify({
      event,
      room: { name: livekitName(user.room_id, user.slot_id) },
      participant: { identity: livekitName(user.member.claimed_user_id, "D", user.member.id) },
    });
    const token = new AccessToken(KEY, SECRET);
    token.sha256 = createHash("sha256").update(body).digest("base64");
    await fetch(`${jwtBase}/sfu_webhook`, {
      method: "POST",
      headers: { authorization: await token.toJwt(), "content-type": "application/webhook+json" },
      body,
    });
  }

  it("refuses a user of another server vouched for by this one (401)", async () => {
    expect((await call(jwtBase, "POST", "/get_token", asUser("mallory", "@mallory:elsewhere.test"))).body).toEqual({
      errcode: "M_UNAUTHORIZED",
      error: "The request could not be authorised.",
    });
  });

  it("finds where a delegated leave goes through the well-known's m.homeserver, and refuses the request (400) before creating the room when there is none", async () => {
    const delegated = {
      ...asUser("ann"),
      delay_id: "syd_ann",
      delay_timeout: 10_000,
      delay_cs_api_url: `https://${server}`,
    };
    // The URL the client gave is not taken: without the well-known's m.homeserver there is nowhere to send the leave.
    expect(await call(jwtBase, "POST", "/get_token", delegated)).toEqual({
      status: 400,
      body: { errcode: "M_BAD_JSON", error: "Unable to resolve client-server API" },
    });
    state.baseUrl = `https://${server}`;
    // Found: the request goes on to create the room, which this SFU-less setup cannot.
    expect(await call(jwtBase, "POST", "/get_token", delegated)).toEqual({
      status: 500,
      body: { errcode: "M_UNKNOWN", error: "Unable to create room on SFU" },
    });
  });

  it("sends a connected participant's leave when LiveKit says they left, and gives it up quietly when a restart finds the delayed event gone", async () => {
    state.baseUrl = `https://${server}`;
    const bea = asUser("bea");
    expect(
      await call(jwtBase, "POST", "/delegate_delayed_leave", { ...bea, delay_id: "syd_bea", delay_timeout: 10_000 }),
    ).toEqual({ status: 200, body: {} });
    await webhook("participant_joined", bea);
    await webhook("participant_left", bea);
    await expect.poll(() => state.sent, { timeout: 10_000 }).toContain("syd_bea");

    state.restart = 404;
    const cy = asUser("cy");
    expect(
      (await call(jwtBase, "POST", "/delegate_delayed_leave", { ...cy, delay_id: "syd_cy", delay_timeout: 10_000 }))
        .status,
    ).toBe(200);
    await webhook("participant_joined", cy);
    // The restart finds the event gone; the job is over, so LiveKit's word that they left sends nothing.
    await new Promise((settle) => setTimeout(settle, 1500));
    await webhook("participant_left", cy);
    await new Promise((settle) => setTimeout(settle, 3000));
    expect(state.sent).not.toContain("syd_cy");
  }, 30_000);
});
