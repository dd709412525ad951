/**
 * The lk-jwt-service stand-in's reading of its configuration and of request bodies, as 0.6.0 reads
 * them, observed over HTTP and in how it starts (the stand-in started as a process). The homeserver
 * here is a closed local port: a request that gets past validation is refused 401 when its OpenID
 * token cannot be checked, which tells it from one validation refused (400).
 */
import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, expect, it } from "vitest";
import { $ } from "zx";
import { call, freePort, started } from "./started.js";

const ENV = { LIVEKIT_URL: "ws://127.0.0.1:1", LIVEKIT_KEY: "APIkey", LIVEKIT_SECRET: "a-secret-of-the-stand-in-test", LIVEKIT_FULL_ACCESS_HOMESERVERS: "127.0.0.1:1" };
let jwt: ChildProcess;
let base: string;

beforeAll(async () => {
  const port = await freePort();
  base = `http://127.0.0.1:${port}`;
  // An override whose URL holds "=": cut at the first one only.
  jwt = await started("lk-jwt", { ...ENV, LIVEKIT_JWT_BIND: `127.0.0.1:${port}`, LIVEKIT_CS_API_URL_OVERRIDES: "127.0.0.1:1=http://127.0.0.1:1/?a=b" });
}, 30_000);
afterAll(() => void jwt?.kill());

const openid_token = { access_token: "t", token_type: "Bearer", matrix_server_name: "127.0.0.1:1", expires_in: 3600 };
const request = { room_id: "!r:example.test", slot_id: "m.call#ROOM", openid_token, member: { id: "m", claimed_user_id: "@u:127.0.0.1:1", claimed_device_id: "D" } };

it("dies when both LIVEKIT_JWT_BIND and LIVEKIT_JWT_PORT are set", async () => {
  const both = await $({ nothrow: true, env: { PATH: process.env.PATH!, ...ENV, LIVEKIT_JWT_BIND: "127.0.0.1:0", LIVEKIT_JWT_PORT: "8081" }, timeout: "20s" })`node --import tsx test/standins/lk-jwt.ts`;
  expect(both.exitCode).toBe(1);
  expect(both.stderr).toContain("LIVEKIT_JWT_BIND and LIVEKIT_JWT_PORT are both set");
}, 30_000);

it("reads the first JSON value of a body, as Go's decoder does: what follows it is never read", async () => {
  expect(await call(base, "POST", "/get_token", `${JSON.stringify({ ...request, room_id: "" })} and then some`)).toEqual({
    status: 400,
    body: { errcode: "M_BAD_JSON", error: "The request body is missing `room_id` or `slot_id`" },
  });
  expect((await call(base, "POST", "/get_token", "{ not json")).body).toEqual({ errcode: "M_NOT_JSON", error: "Error reading request" });
});

it("takes delay_id with delay_timeout alone, ignoring delay_cs_api_url (0.6.0 finds the homeserver itself)", async () => {
  const unauthorised = { status: 401, body: { errcode: "M_UNAUTHORIZED", error: "The request could not be authorised." } };
  expect(await call(base, "POST", "/get_token", { ...request, delay_id: "syd_x", delay_timeout: 10_000 })).toEqual(unauthorised);
  expect(await call(base, "POST", "/get_token", { ...request, delay_cs_api_url: "https://anywhere.example" })).toEqual(unauthorised);
  expect(await call(base, "POST", "/get_token", { ...request, delay_id: "syd_x" })).toEqual({ status: 400, body: { errcode: "M_BAD_JSON", error: "The request body is missing `delay_id` or `delay_timeout`" } });
  expect(await call(base, "POST", "/delegate_delayed_leave", { ...request, delay_id: "syd_x", delay_timeout: 10_000 })).toEqual(unauthorised);
});
