/**
 * Stand-in for Synapse (AGPL; not built or fetched here). It reads the homeserver.yaml the role
 * renders and honours the parts of Synapse's contract the MatrixRTC stack relies on (each listed
 * with its upstream source and its test in README.md next to this file):
 * - listeners: each `http` listener serves the resources it names (client, federation, openid);
 * - GET /_matrix/client/versions: unstable_features as versions.rs sets them for this config
 *   (org.matrix.msc4140 when max_event_delay_duration is set, org.matrix.msc4143 and msc4354 as
 *   enabled; never msc4222);
 * - GET /_matrix/client/unstable/org.matrix.msc4143/rtc/transports (only there, authenticated):
 *   matrix_rtc.transports as `rtc_transports`;
 * - the shared-secret registration admin API, password login, /account/whoami, OpenID tokens and
 *   the federation userinfo the jwt service validates them with;
 * - rooms (create, join, state) and MSC4140 delayed events (synapse-rooms.ts), their management
 *   without a token limited per client address by rc_delayed_event_mgmt;
 * - CORS on every JSON answer, errors included, and 204 with CORS to OPTIONS on any path (a browser's preflight);
 * - GET /.well-known/matrix/client (public_baseurl and extra_well_known_client_content, with CORS)
 *   and /server (server_name on 443) on the client resource, each only when configured;
 * - GET /health. It refuses to start without a readable signing key, as Synapse does;
 * - a `metrics` listener serves Prometheus's text format on any path, only with enable_metrics;
 * - users and access tokens in the configured database (synapse-store.ts), checked at start as
 *   Synapse checks it; it listens only once that database is ready, as Synapse does.
 */
import { createHmac, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { fatal, json, matrixError, serve, type Answer } from "./http.js";
import { durationMs, Rooms } from "./synapse-rooms.js";
import { openStore, type DatabaseConfig, type Session, type Store } from "./synapse-store.js";

interface Listener {
  port: number;
  x_forwarded?: boolean;
  type?: string;
  bind_addresses?: string[];
  resources?: Array<{ names: string[] }>;
}
interface Config {
  server_name: string;
  listeners: Listener[];
  signing_key_path: string;
  registration_shared_secret?: string;
  experimental_features?: Record<string, boolean>;
  matrix_rtc?: { transports?: unknown[] };
  max_event_delay_duration?: string;
  rc_delayed_event_mgmt?: { per_second?: number; burst_count?: number };
  turn_shared_secret_path?: string;
  database?: DatabaseConfig;
  public_baseurl?: string;
  serve_client_wellknown?: boolean;
  serve_server_wellknown?: boolean;
  extra_well_known_client_content?: Record<string, unknown>;
  enable_metrics?: boolean;
}

const path = process.env.SYNAPSE_CONFIG_PATH ?? "/data/homeserver.yaml";
let config: Config;
try {
  config = parse(readFileSync(path, "utf8")) as Config;
} catch (error) {
  fatal(`${path}: ${(error as Error).message}`);
}
if (!config.server_name) fatal(`${path}: server_name is required`);
for (const file of [config.signing_key_path, config.turn_shared_secret_path].filter(Boolean) as string[]) {
  try {
    readFileSync(file, "utf8");
  } catch (error) {
    fatal(`${file}: ${(error as Error).message}`);
  }
}
if (!/^ed25519 a_\w+ [A-Za-z0-9+/]{43}$/.test(readFileSync(config.signing_key_path, "utf8").trim()))
  fatal(`${config.signing_key_path}: not an ed25519 signing key`);

const features = config.experimental_features ?? {};
let maxDelayMs: number | undefined;
try {
  maxDelayMs = durationMs(config.max_event_delay_duration);
} catch (error) {
  fatal(`${path}: ${(error as Error).message}`);
}
const unstable: Record<string, boolean> = {
  "org.matrix.msc4140": Boolean(maxDelayMs),
  "org.matrix.msc4143": Boolean(features.msc4143_enabled),
  "org.matrix.msc4354": Boolean(features.msc4354_enabled),
};
const rooms = new Rooms(config.server_name, maxDelayMs);

/** Users and access tokens are in the database; OpenID tokens and registration nonces live in memory (they last minutes). */
let store: Store;
const openidTokens = new Map<string, { user: string; expires: number }>();
const nonces = new Set<string>();
const token = () => randomBytes(18).toString("base64url");

type Request = { method?: string; headers: Record<string, unknown>; socket?: { remoteAddress?: string } };
/** A new access token (and device) for a user: registration and login answer the same. */
async function session(user: string): Promise<Answer> {
  const access = token();
  const device = token().slice(0, 10).toUpperCase();
  await store.addSession(access, { user, device });
  return json(200, { user_id: user, access_token: access, device_id: device, home_server: config.server_name });
}

/** get_user_by_req: the access token from the Authorization header or the access_token parameter. */
async function requester(request: Request, url: URL): Promise<Session | Answer> {
  const header = String(request.headers.authorization ?? "");
  const given = header.startsWith("Bearer ") ? header.slice(7) : url.searchParams.get("access_token");
  if (!given) return matrixError(401, "M_MISSING_TOKEN", "Missing access token");
  return (
    (await store.session(given)) ??
    matrixError(401, "M_UNKNOWN_TOKEN", "Unrecognised access token", { soft_logout: false })
  );
}
const authed = (who: Session | Answer): who is Session => "user" in who;

async function register(body: string): Promise<Answer> {
  if (!config.registration_shared_secret)
    return matrixError(400, "M_UNKNOWN", "Shared secret registration is not enabled");
  const r = JSON.parse(body || "{}") as {
    nonce?: string;
    username?: string;
    password?: string;
    admin?: boolean;
    mac?: string;
  };
  if (!r.nonce || !nonces.delete(r.nonce)) return matrixError(400, "M_UNKNOWN", "unrecognised nonce");
  const mac = createHmac("sha1", config.registration_shared_secret)
    .update([r.nonce, r.username, r.password, r.admin ? "admin" : "notadmin"].join("\0"))
    .digest("hex");
  if (mac !== r.mac) return matrixError(403, "M_FORBIDDEN", "HMAC incorrect");
  const user = `@${r.username}:${config.server_name}`;
  if (!(await store.addUser(user, r.password ?? "")))
    return matrixError(400, "M_USER_IN_USE", "User ID already taken.");
  return session(user);
}

async function login(body: string): Promise<Answer> {
  const r = JSON.parse(body || "{}") as { type?: string; identifier?: { user?: string }; password?: string };
  const name = r.identifier?.user ?? "";
  const user = name.startsWith("@") ? name : `@${name}:${config.server_name}`;
  if (r.type !== "m.login.password" || !(await store.passwordMatches(user, r.password ?? "")))
    return matrixError(403, "M_FORBIDDEN", "Invalid username or password");
  return session(user);
}

const DELAYED = "/_matrix/client/unstable/org.matrix.msc4140/delayed_events";
const segment = (s: string) => decodeURIComponent(s);

/** The client API requests that need an access token: what to do once the user is known, or undefined for no such request. */
function userRoute(method: string, url: URL): ((who: Session, body: string) => Answer) | undefined {
  const p = url.pathname;
  const content = (body: string) => JSON.parse(body || "{}") as Record<string, unknown>;
  if (p === "/_matrix/client/v3/account/whoami")
    return (who) => json(200, { user_id: who.user, device_id: who.device, is_guest: false });
  if (
    p === "/_matrix/client/unstable/org.matrix.msc4143/rtc/transports" &&
    features.msc4143_enabled &&
    method === "GET"
  )
    return () =>
      json(200, (config.matrix_rtc?.transports ?? []).length ? { rtc_transports: config.matrix_rtc!.transports } : {});
  const openid = /^\/_matrix\/client\/(?:v3|r0)\/user\/([^/]+)\/openid\/request_token$/.exec(p);
  if (openid && method === "POST")
    return (who, body) => {
      if (segment(openid[1]!) !== who.user)
        return matrixError(403, "M_FORBIDDEN", "Cannot request tokens for other users.");
      if (!isJsonObject(body)) return matrixError(400, "M_NOT_JSON", "Content not JSON.");
      const openidToken = token();
      openidTokens.set(openidToken, { user: who.user, expires: Date.now() + 3600_000 });
      return json(200, {
        access_token: openidToken,
        token_type: "Bearer",
        matrix_server_name: config.server_name,
        expires_in: 3600,
      });
    };
  if (p === "/_matrix/client/v3/createRoom" && method === "POST") return (who) => rooms.create(who.user);
  const join = /^\/_matrix\/client\/v3\/(?:join\/([^/]+)|rooms\/([^/]+)\/join)$/.exec(p);
  if (join && method === "POST") return (who) => rooms.join(who.user, segment(join[1] ?? join[2]!));
  const state = /^\/_matrix\/client\/v3\/rooms\/([^/]+)\/state\/([^/]+)(?:\/([^/]*))?$/.exec(p);
  const delay = url.searchParams.get("org.matrix.msc4140.delay");
  if (state) {
    const [room, type, key] = [segment(state[1]!), segment(state[2]!), segment(state[3] ?? "")];
    if (method === "PUT") return (who, body) => rooms.send(who.user, room, type, key, content(body), delay);
    if (method === "GET") return (who) => rooms.state(who.user, room, type, key);
  }
  const send = /^\/_matrix\/client\/v3\/rooms\/([^/]+)\/send\/([^/]+)\/[^/]+$/.exec(p);
  if (send && method === "PUT")
    return (who, body) => rooms.send(who.user, segment(send[1]!), segment(send[2]!), undefined, content(body), delay);
  if (p === DELAYED && method === "GET") return (who) => rooms.list(who.user);
  return undefined;
}

const isJsonObject = (body: string) => {
  try {
    const value = JSON.parse(body) as unknown;
    return typeof value === "object" && value !== null && !Array.isArray(value);
  } catch {
    return false;
  }
};

/**
 * rc_delayed_event_mgmt: a token bucket per client address for the management requests that carry
 * no token (the delay id is the capability), as Synapse's Ratelimiter keys them (per_second, burst_count).
 */
const managementLimit = {
  perSecond: config.rc_delayed_event_mgmt?.per_second ?? 1,
  burst: config.rc_delayed_event_mgmt?.burst_count ?? 5,
};
const buckets = new Map<string, { tokens: number; at: number }>();
function limited(address: string): Answer | undefined {
  const now = Date.now();
  const bucket = buckets.get(address) ?? { tokens: managementLimit.burst, at: now };
  bucket.tokens = Math.min(
    managementLimit.burst,
    bucket.tokens + ((now - bucket.at) / 1000) * managementLimit.perSecond,
  );
  bucket.at = now;
  buckets.set(address, bucket);
  if (bucket.tokens < 1)
    return matrixError(429, "M_LIMIT_EXCEEDED", "Too Many Requests", {
      retry_after_ms: Math.ceil(((1 - bucket.tokens) / managementLimit.perSecond) * 1000),
    });
  bucket.tokens -= 1;
  return undefined;
}

/** The client's address: X-Forwarded-For's first where the listener trusts its proxy (x_forwarded), else the peer's. */
const clientAddress = (request: Request, trustForwarded: boolean) =>
  (trustForwarded
    ? String(request.headers["x-forwarded-for"] ?? "")
        .split(",")[0]!
        .trim()
    : "") || String(request.socket?.remoteAddress ?? "");

/** MSC4140's management by delay id, without a token: `/{id}/{action}`, and the older `/{id}` with the action in the body. */
function manageDelayed(request: Request, url: URL, body: string, trustForwarded: boolean): Answer | undefined {
  if ((request.method ?? "GET") !== "POST") return undefined;
  const byPath = new RegExp(`^${DELAYED}/([^/]+)/(restart|cancel|send)$`).exec(url.pathname);
  const byBody = new RegExp(`^${DELAYED}/([^/]+)$`).exec(url.pathname);
  if (!byPath && !byBody) return undefined;
  const refused = limited(clientAddress(request, trustForwarded));
  if (refused) return refused;
  if (byPath) return rooms.act(segment(byPath[1]!), byPath[2]!);
  if (!isJsonObject(body)) return matrixError(400, "M_NOT_JSON", "Content not JSON.");
  const action = (JSON.parse(body) as { action?: unknown }).action;
  return action === undefined
    ? matrixError(400, "M_MISSING_PARAM", "'action' is missing")
    : rooms.act(segment(byBody![1]!), String(action));
}

/** /.well-known/matrix/client and /server, which the client resource serves (well_known.py): off unless configured. */
function wellKnown(p: string): Answer | undefined {
  if (p === "/.well-known/matrix/client") {
    if (!config.serve_client_wellknown) return matrixError(404, "M_NOT_FOUND", ".well-known not available");
    const result: Record<string, unknown> = {
      "m.homeserver": { base_url: config.public_baseurl ?? `https://${config.server_name}/` },
    };
    for (const [key, value] of Object.entries(config.extra_well_known_client_content ?? {}))
      if (!(key in result)) result[key] = value;
    return json(200, result);
  }
  if (p !== "/.well-known/matrix/server") return undefined;
  if (!config.serve_server_wellknown) return { status: 404, body: "404. Is anything ever truly *well* known?\n" };
  const [host, port] = config.server_name.split(/:(?=\d+$)/);
  return { status: 200, body: JSON.stringify({ "m.server": `${host}:${port ?? 443}` }), type: "application/json" };
}

/** What Synapse's JSON resources send with every answer, errors included, and OPTIONS on any path (set_cors_headers). */
const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "GET, HEAD, POST, PUT, DELETE, OPTIONS",
  "access-control-allow-headers": "X-Requested-With, Content-Type, Authorization, Date",
  "access-control-expose-headers": "Synapse-Trace-Id, Server",
};

/** A JSON answer with CORS, as every JSON resource sends it; others (text, the server well-known) as they are. */
const withCors = (answer: Answer): Answer =>
  answer.body !== undefined && typeof answer.body !== "string"
    ? { ...answer, headers: { ...CORS, ...answer.headers } }
    : answer;

async function client(request: Request, url: URL, body: string, trustForwarded: boolean): Promise<Answer | undefined> {
  const p = url.pathname;
  const method = request.method ?? "GET";
  if (method === "GET" && p.startsWith("/.well-known/matrix/")) return wellKnown(p);
  if (p === "/_matrix/client/versions") return json(200, { versions: ["v1.11", "v1.12"], unstable_features: unstable });
  if (p === "/_synapse/admin/v1/register") {
    if (method !== "GET") return register(body);
    const nonce = token();
    nonces.add(nonce);
    return json(200, { nonce });
  }
  if (p === "/_matrix/client/v3/login" && method === "POST") return login(body);
  const managed = manageDelayed(request, url, body, trustForwarded);
  if (managed) return managed;
  const route = userRoute(method, url);
  if (!route) return undefined;
  const who = await requester(request, url);
  return authed(who) ? route(who, body) : who;
}

function openidUserinfo(url: URL): Answer | undefined {
  if (url.pathname !== "/_matrix/federation/v1/openid/userinfo") return undefined;
  const given = url.searchParams.get("access_token");
  if (!given) return matrixError(401, "M_MISSING_TOKEN", "Access Token required");
  const found = openidTokens.get(given);
  if (!found || found.expires < Date.now())
    return matrixError(401, "M_UNKNOWN_TOKEN", "Access Token unknown or expired");
  return json(200, { sub: found.user });
}

const started = Date.now() / 1000;
let requests = 0;

/** What prometheus_client's HTTP server answers on any path: the registry in the text format. */
const metricsText = () =>
  [
    "# HELP synapse_build_info Synapse's version",
    "# TYPE synapse_build_info gauge",
    'synapse_build_info{version="1.159.0"} 1.0',
    "# HELP synapse_http_server_requests_received_total Requests received",
    "# TYPE synapse_http_server_requests_received_total counter",
    `synapse_http_server_requests_received_total ${requests}.0`,
    "# HELP process_start_time_seconds Start time of the process since unix epoch in seconds.",
    "# TYPE process_start_time_seconds gauge",
    `process_start_time_seconds ${started}`,
    "",
  ].join("\n");

/** A `metrics` listener starts only with enable_metrics (Synapse warns and leaves it out otherwise). */
function listenMetrics(listener: Listener): void {
  if (!config.enable_metrics) {
    console.log("synapse: Metrics listener configured, but enable_metrics is not True!");
    return;
  }
  for (const address of listener.bind_addresses ?? ["0.0.0.0"])
    serve(`synapse-metrics:${listener.port}`, address, listener.port, () => ({
      status: 200,
      body: metricsText(),
      type: "text/plain; version=0.0.4; charset=utf-8",
    }));
}

/** Each `http` listener serves the resources it names; a `metrics` listener, the metrics. */
function listen(): void {
  for (const listener of config.listeners ?? []) {
    if (listener.type === "metrics") listenMetrics(listener);
    if ((listener.type ?? "http") !== "http") continue;
    const names = new Set((listener.resources ?? []).flatMap((r) => r.names));
    for (const address of listener.bind_addresses ?? ["0.0.0.0"]) {
      serve(`synapse:${listener.port}`, address, listener.port, async (request, url, body) => {
        requests += 1;
        // The root's OptionsResource answers a browser's preflight for every path.
        if (request.method === "OPTIONS") return { status: 204, headers: CORS };
        if (url.pathname === "/health") return { status: 200, body: "OK" };
        const answer =
          (names.has("client") ? await client(request, url, body, listener.x_forwarded === true) : undefined) ??
          (names.has("federation") || names.has("openid") ? openidUserinfo(url) : undefined);
        return withCors(answer ?? matrixError(404, "M_UNRECOGNIZED", "Unrecognized request"));
      });
    }
  }
}

openStore(config.database).then(
  (opened) => {
    store = opened;
    listen();
  },
  (error: Error) => fatal(`the database: ${error.message}`),
);
