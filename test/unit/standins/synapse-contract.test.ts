/**
 * The Synapse stand-in's answers to the MatrixRTC requests, as a client observes them over HTTP
 * (the stand-in started as a process, as its image starts it): what /versions lists, MSC4140's
 * limits and errors, its management without a token and the limit on it, OpenID's errors. Each is
 * a row of test/standins/README.md, read from Synapse at the release named there.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { ChildProcess } from "node:child_process";
import { afterAll, beforeAll, expect, it } from "vitest";
import { registrationMac } from "../../../roles/call_probe/matrix.js";
import { call as request, freePort, started } from "./started.js";

const SECRET = "registration-shared-secret-for-the-stand-in";
let synapse: ChildProcess;
let base: string;
const call = (method: string, path: string, body?: unknown, token?: string) => request(base, method, path, body, token);

async function register(name: string): Promise<{ user_id: string; access_token: string }> {
  const { nonce } = (await call("GET", "/_synapse/admin/v1/register")).body;
  const password = `${name}-password`;
  return (
    await call("POST", "/_synapse/admin/v1/register", {
      nonce,
      username: name,
      password,
      admin: false,
      mac: registrationMac(SECRET, nonce, name, password),
    })
  ).body as never;
}

/** The stand-in started on a homeserver.yaml of these lines (beside the listener, key and database, and more listeners); its base URL. */
async function startSynapse(
  lines: string[],
  listeners: string[] = [],
): Promise<{ process: ChildProcess; base: string }> {
  const dir = mkdtempSync(join(tmpdir(), "rigger-synapse-standin-"));
  const port = await freePort();
  writeFileSync(join(dir, "signing.key"), `ed25519 a_test ${"A".repeat(43)}\n`);
  writeFileSync(
    join(dir, "homeserver.yaml"),
    [
      "server_name: example.test",
      `signing_key_path: ${join(dir, "signing.key")}`,
      `listeners: [{ port: ${port}, type: http, bind_addresses: ["127.0.0.1"], resources: [{ names: [client, openid] }] }${listeners.map((l) => `, ${l}`).join("")}]`,
      "database: { name: sqlite3, args: { database: /data/homeserver.db } }",
      ...lines,
      "",
    ].join("\n"),
  );
  return {
    process: await started("synapse", { SYNAPSE_CONFIG_PATH: join(dir, "homeserver.yaml") }),
    base: `http://127.0.0.1:${port}`,
  };
}

beforeAll(async () => {
  ({ process: synapse, base } = await startSynapse([
    `registration_shared_secret: ${SECRET}`,
    "experimental_features: { msc4143_enabled: true, msc4354_enabled: true }",
    "max_event_delay_duration: 24h",
    "rc_delayed_event_mgmt: { per_second: 0.1, burst_count: 5 }",
  ]));
}, 30_000);
afterAll(() => void synapse?.kill());

it("lists MSC4143 in /versions as Synapse 1.156 and later do, beside delayed and sticky events", async () => {
  const { unstable_features } = (await call("GET", "/_matrix/client/versions")).body;
  expect(unstable_features).toMatchObject({
    "org.matrix.msc4140": true,
    "org.matrix.msc4143": true,
    "org.matrix.msc4354": true,
  });
  expect(unstable_features["org.matrix.msc4222"]).toBeUndefined();
});

it("refuses a delay over the maximum (403), a user's 101st scheduled event (429), and lists the scheduled ones as delayed_events alone", async () => {
  const user = await register(`ann${Date.now()}`);
  const { room_id } = (await call("POST", "/_matrix/client/v3/createRoom", {}, user.access_token)).body;
  const state = (key: string, delay: number) =>
    call(
      "PUT",
      `/_matrix/client/v3/rooms/${encodeURIComponent(room_id)}/state/m.room.topic/${key}?org.matrix.msc4140.delay=${delay}`,
      { topic: key },
      user.access_token,
    );
  expect(await state("late", 25 * 3600_000)).toEqual({
    status: 403,
    body: {
      errcode: "M_FORBIDDEN",
      error: "The requested delay (90000000ms) exceeds the allowed maximum (86400000ms)",
    },
  });
  for (let i = 0; i < 100; i++) expect((await state(`k${i}`, 60_000)).status).toBe(200);
  expect(await state("k100", 60_000)).toMatchObject({ status: 429, body: { errcode: "M_LIMIT_EXCEEDED" } });
  const listed = (
    await call("GET", "/_matrix/client/unstable/org.matrix.msc4140/delayed_events", undefined, user.access_token)
  ).body;
  expect(Object.keys(listed)).toEqual(["delayed_events"]);
  expect(listed.delayed_events).toHaveLength(100);
  expect(listed.delayed_events[0]).toMatchObject({ room_id, type: "m.room.topic", delay: 60_000 });
});

it("lets the delay id act without a token in both forms, limited per client address by rc_delayed_event_mgmt", async () => {
  const user = await register(`bea${Date.now()}`);
  const { room_id } = (await call("POST", "/_matrix/client/v3/createRoom", {}, user.access_token)).body;
  const delayIds = await Promise.all(
    [1, 2].map(
      async (i) =>
        (
          await call(
            "PUT",
            `/_matrix/client/v3/rooms/${encodeURIComponent(room_id)}/state/m.room.topic/t${i}?org.matrix.msc4140.delay=60000`,
            {},
            user.access_token,
          )
        ).body.delay_id as string,
    ),
  );
  const delayed = "/_matrix/client/unstable/org.matrix.msc4140/delayed_events";
  // The older form, the action in the body, needs no token either.
  expect(await call("POST", `${delayed}/${delayIds[0]}`, { action: "cancel" })).toEqual({ status: 200, body: {} });
  expect(await call("POST", `${delayed}/${delayIds[1]}/restart`, {})).toEqual({ status: 200, body: {} });
  // Three more fill the burst of 5 from this address (the unknown id still counts); the next is refused.
  for (let i = 0; i < 3; i++) expect((await call("POST", `${delayed}/syd_unknown/restart`, {})).status).toBe(404);
  const refused = await call("POST", `${delayed}/${delayIds[1]}/restart`, {});
  expect(refused).toMatchObject({ status: 429, body: { errcode: "M_LIMIT_EXCEEDED", error: "Too Many Requests" } });
  expect(refused.body.retry_after_ms).toBeGreaterThan(0);
});

it("answers OpenID's errors as Synapse does: a body that is not JSON, a userinfo request without a token", async () => {
  const user = await register(`cid${Date.now()}`);
  const path = `/_matrix/client/v3/user/${encodeURIComponent(user.user_id)}/openid/request_token`;
  expect(await call("POST", path, "", user.access_token)).toEqual({
    status: 400,
    body: { errcode: "M_NOT_JSON", error: "Content not JSON." },
  });
  expect((await call("POST", path, {}, user.access_token)).body).toMatchObject({
    token_type: "Bearer",
    matrix_server_name: "example.test",
  });
  expect(await call("GET", "/_matrix/federation/v1/openid/userinfo")).toEqual({
    status: 401,
    body: { errcode: "M_MISSING_TOKEN", error: "Access Token required" },
  });
});

it("serves the well-known only when configured: the client's from public_baseurl and the extra content, with CORS; the server's on 443", async () => {
  expect(await call("GET", "/.well-known/matrix/client")).toEqual({
    status: 404,
    body: { errcode: "M_NOT_FOUND", error: ".well-known not available" },
  });
  const off = await fetch(`${base}/.well-known/matrix/server`);
  expect([off.status, await off.text()]).toEqual([404, "404. Is anything ever truly *well* known?\n"]);
  const rtcFoci = [{ type: "livekit", livekit_service_url: "https://matrix.example.test/_livekit" }];
  const served = await startSynapse([
    "public_baseurl: https://matrix.example.test/",
    "serve_client_wellknown: true",
    "serve_server_wellknown: true",
    `extra_well_known_client_content: { org.matrix.msc4143.rtc_foci: ${JSON.stringify(rtcFoci)}, m.homeserver: { base_url: https://elsewhere.example/ } }`,
  ]);
  try {
    const client = await fetch(`${served.base}/.well-known/matrix/client`);
    expect(client.headers.get("access-control-allow-origin")).toBe("*");
    expect(client.headers.get("content-type")).toBe("application/json");
    // The extra content adds keys; it never replaces m.homeserver.
    expect(await client.json()).toEqual({
      "m.homeserver": { base_url: "https://matrix.example.test/" },
      "org.matrix.msc4143.rtc_foci": rtcFoci,
    });
    const server = await fetch(`${served.base}/.well-known/matrix/server`);
    expect(await server.json()).toEqual({ "m.server": "example.test:443" });
  } finally {
    served.process.kill();
  }
}, 30_000);

it("serves Prometheus's text format on a metrics listener only with enable_metrics, as Synapse does", async () => {
  const port = await freePort();
  const listener = `{ port: ${port}, type: metrics, bind_addresses: ["127.0.0.1"] }`;
  const off = await startSynapse([], [listener]);
  try {
    await expect(fetch(`http://127.0.0.1:${port}/_synapse/metrics`)).rejects.toThrow();
  } finally {
    off.process.kill();
  }
  const on = await startSynapse(["enable_metrics: true"], [listener]);
  try {
    for (const path of ["/_synapse/metrics", "/metrics"]) {
      const answer = await fetch(`http://127.0.0.1:${port}${path}`);
      expect(answer.headers.get("content-type")).toBe("text/plain; version=0.0.4; charset=utf-8");
      expect(await answer.text()).toMatch(/^synapse_build_info\{version="1\.159\.0"\} 1\.0$/m);
    }
  } finally {
    on.process.kill();
  }
}, 30_000);

it("answers a browser's preflight on any path and sends CORS with every JSON answer, errors included, as Synapse's JSON resources do", async () => {
  const preflight = await fetch(`${base}/_matrix/client/v3/login`, {
    method: "OPTIONS",
    headers: { origin: "https://call.example.test", "access-control-request-method": "POST" },
  });
  expect(preflight.status).toBe(204);
  expect(preflight.headers.get("access-control-allow-origin")).toBe("*");
  expect(preflight.headers.get("access-control-allow-headers")).toBe(
    "X-Requested-With, Content-Type, Authorization, Date",
  );
  expect(preflight.headers.get("access-control-allow-methods")).toBe("GET, HEAD, POST, PUT, DELETE, OPTIONS");
  const refused = await fetch(`${base}/_matrix/client/v3/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({
      type: "m.login.password",
      identifier: { type: "m.id.user", user: "nobody" },
      password: "x",
    }),
  });
  expect(refused.status).toBe(403);
  expect(refused.headers.get("access-control-allow-origin")).toBe("*");
  const versions = await fetch(`${base}/_matrix/client/versions`);
  expect(versions.headers.get("access-control-expose-headers")).toBe("Synapse-Trace-Id, Server");
});
