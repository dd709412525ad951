/**
 * Stand-in for Synapse (AGPL; not built or fetched here). It reads the homeserver.yaml the role
 * renders and honours the parts of Synapse's contract the MatrixRTC stack relies on:
 * - listeners: each `http` listener serves the resources it names (client, federation, openid);
 * - GET /_matrix/client/versions: unstable_features from experimental_features (msc4143, msc4222,
 *   msc4354) and org.matrix.msc4140 when max_event_delay_duration is set;
 * - GET /_matrix/client/v1/rtc/transports (and the msc4143 unstable path): matrix_rtc.transports;
 * - the shared-secret registration admin API (GET/POST /_synapse/admin/v1/register, HMAC-SHA1;
 *   M_USER_IN_USE for a taken name) and password login (POST /_matrix/client/v3/login);
 * - POST /_matrix/client/v3/user/{userId}/openid/request_token and the federation
 *   GET /_matrix/federation/v1/openid/userinfo that the jwt service validates users with;
 * - GET /health. It refuses to start without a readable signing key, as Synapse does.
 */
import { createHmac, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import { fatal, json, matrixError, serve, type Answer } from "./http.js";

interface Listener {
  port: number;
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
  turn_shared_secret_path?: string;
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
if (!/^ed25519 a_\w+ [A-Za-z0-9+/]{43}$/.test(readFileSync(config.signing_key_path, "utf8").trim())) fatal(`${config.signing_key_path}: not an ed25519 signing key`);

const features = config.experimental_features ?? {};
const unstable: Record<string, boolean> = {
  ...(features.msc4143_enabled ? { "org.matrix.msc4143": true } : {}),
  ...(features.msc4222_enabled ? { "org.matrix.msc4222": true } : {}),
  ...(features.msc4354_enabled ? { "org.matrix.msc4354": true } : {}),
  ...(config.max_event_delay_duration ? { "org.matrix.msc4140": true } : {}),
};

/** Users and tokens live in memory: enough for a test run. */
const accessTokens = new Map<string, string>();
const passwords = new Map<string, string>();
const openidTokens = new Map<string, { user: string; expires: number }>();
const nonces = new Set<string>();
const token = () => randomBytes(18).toString("base64url");

function client(request: { method?: string; headers: Record<string, unknown> }, url: URL, body: string): Answer | undefined {
  const p = url.pathname;
  if (p === "/_matrix/client/versions") return json(200, { versions: ["v1.11", "v1.12"], unstable_features: unstable });
  if (p === "/_matrix/client/v1/rtc/transports" || p === "/_matrix/client/unstable/org.matrix.msc4143/rtc/transports") {
    if (!features.msc4143_enabled) return matrixError(404, "M_UNRECOGNIZED", "Unrecognized request");
    return json(200, (config.matrix_rtc?.transports ?? []).length ? { rtc_transports: config.matrix_rtc!.transports } : {});
  }
  if (p === "/_synapse/admin/v1/register") {
    if (!config.registration_shared_secret) return matrixError(400, "M_UNKNOWN", "Shared secret registration is not enabled");
    if (request.method === "GET") {
      const nonce = token();
      nonces.add(nonce);
      return json(200, { nonce });
    }
    const r = JSON.parse(body || "{}") as { nonce?: string; username?: string; password?: string; admin?: boolean; mac?: string };
    if (!r.nonce || !nonces.delete(r.nonce)) return matrixError(400, "M_UNKNOWN", "unrecognised nonce");
    const mac = createHmac("sha1", config.registration_shared_secret)
      .update([r.nonce, r.username, r.password, r.admin ? "admin" : "notadmin"].join("\0"))
      .digest("hex");
    if (mac !== r.mac) return matrixError(403, "M_FORBIDDEN", "HMAC incorrect");
    const user = `@${r.username}:${config.server_name}`;
    if (passwords.has(user)) return matrixError(400, "M_USER_IN_USE", "User ID already taken.");
    passwords.set(user, r.password ?? "");
    const access = token();
    accessTokens.set(access, user);
    return json(200, { user_id: user, access_token: access, device_id: token().slice(0, 10).toUpperCase(), home_server: config.server_name });
  }
  if (p === "/_matrix/client/v3/login" && request.method === "POST") {
    const r = JSON.parse(body || "{}") as { type?: string; identifier?: { user?: string }; password?: string };
    const name = r.identifier?.user ?? "";
    const user = name.startsWith("@") ? name : `@${name}:${config.server_name}`;
    if (r.type !== "m.login.password" || !passwords.has(user) || passwords.get(user) !== r.password) return matrixError(403, "M_FORBIDDEN", "Invalid username or password");
    const access = token();
    accessTokens.set(access, user);
    return json(200, { user_id: user, access_token: access, device_id: token().slice(0, 10).toUpperCase(), home_server: config.server_name });
  }
  const openid = /^\/_matrix\/client\/(?:v3|r0)\/user\/([^/]+)\/openid\/request_token$/.exec(p);
  if (openid && request.method === "POST") {
    const user = accessTokens.get(String(request.headers.authorization ?? "").replace(/^Bearer /, ""));
    if (!user) return matrixError(401, "M_UNKNOWN_TOKEN", "Invalid access token passed.");
    if (decodeURIComponent(openid[1]!) !== user) return matrixError(403, "M_FORBIDDEN", "Cannot request tokens for other users.");
    const openidToken = token();
    openidTokens.set(openidToken, { user, expires: Date.now() + 3600_000 });
    return json(200, { access_token: openidToken, token_type: "Bearer", matrix_server_name: config.server_name, expires_in: 3600 });
  }
  return undefined;
}

function openidUserinfo(url: URL): Answer | undefined {
  if (url.pathname !== "/_matrix/federation/v1/openid/userinfo") return undefined;
  const found = openidTokens.get(url.searchParams.get("access_token") ?? "");
  if (!found || found.expires < Date.now()) return matrixError(401, "M_UNKNOWN_TOKEN", "Access Token unknown or expired");
  return json(200, { sub: found.user });
}

for (const listener of config.listeners ?? []) {
  if ((listener.type ?? "http") !== "http") continue;
  const names = new Set((listener.resources ?? []).flatMap((r) => r.names));
  for (const address of listener.bind_addresses ?? ["0.0.0.0"]) {
    serve(`synapse:${listener.port}`, address, listener.port, (request, url, body) => {
      if (url.pathname === "/health") return { status: 200, body: "OK" };
      const answer =
        (names.has("client") ? client(request, url, body) : undefined) ??
        (names.has("federation") || names.has("openid") ? openidUserinfo(url) : undefined);
      return answer ?? matrixError(404, "M_UNRECOGNIZED", "Unrecognized request");
    });
  }
}
