/**
 * Stand-in for lk-jwt-service 0.6.0 (AGPL; not built or fetched here), from the same environment:
 * LIVEKIT_URL, LIVEKIT_KEY_FILE (`key: secret`) or LIVEKIT_KEY + LIVEKIT_SECRET,
 * LIVEKIT_FULL_ACCESS_HOMESERVERS (required), LIVEKIT_JWT_BIND (default :8080),
 * LIVEKIT_INSECURE_SKIP_VERIFY_TLS. Endpoints: GET /healthz; POST /sfu/get and POST /get_token
 * -> {url, jwt}. The OpenID token is checked against the user's homeserver over the federation API
 * (found through /.well-known/matrix/server, else port 8448); users of a full-access homeserver
 * have the room created over LiveKit's Twirp API at LIVEKIT_URL, others get a join-only token.
 */
import { createHash, createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { fatal, json, matrixError, serve } from "./http.js";

const env = process.env;
const livekitUrl = env.LIVEKIT_URL ?? fatal("LIVEKIT_URL is not set");
if (env.LIVEKIT_INSECURE_SKIP_VERIFY_TLS === "YES_I_KNOW_WHAT_I_AM_DOING") env.NODE_TLS_REJECT_UNAUTHORIZED = "0";

function keyPair(): [string, string] {
  if (env.LIVEKIT_KEY_FILE) {
    const line = readFileSync(env.LIVEKIT_KEY_FILE, "utf8").split("\n").find((l) => l.includes(":"));
    const [key, ...secret] = (line ?? "").split(":");
    if (!key?.trim() || !secret.join(":").trim()) fatal(`${env.LIVEKIT_KEY_FILE}: expected a line "key: secret"`);
    return [key.trim(), secret.join(":").trim()];
  }
  if (env.LIVEKIT_KEY && env.LIVEKIT_SECRET) return [env.LIVEKIT_KEY, env.LIVEKIT_SECRET];
  return fatal("LIVEKIT_KEY_FILE, or LIVEKIT_KEY and LIVEKIT_SECRET, must be set");
}
const [apiKey, apiSecret] = keyPair();
const fullAccess = (env.LIVEKIT_FULL_ACCESS_HOMESERVERS ?? fatal("LIVEKIT_FULL_ACCESS_HOMESERVERS is not set")).split(",").map((s) => s.trim()).filter(Boolean);
const bind = env.LIVEKIT_JWT_BIND ?? ":8080";

const b64url = (value: string | Buffer) => Buffer.from(value).toString("base64url");
function livekitToken(identity: string, video: Record<string, unknown>, ttlSeconds = 3600): string {
  const now = Math.floor(Date.now() / 1000);
  const head = b64url(JSON.stringify({ alg: "HS256", typ: "JWT" }));
  const body = b64url(JSON.stringify({ iss: apiKey, sub: identity, nbf: now - 5, exp: now + ttlSeconds, video }));
  return `${head}.${body}.${b64url(createHmac("sha256", apiSecret).update(`${head}.${body}`).digest())}`;
}

async function federationBase(serverName: string): Promise<string> {
  try {
    const response = await fetch(`https://${serverName}/.well-known/matrix/server`, { signal: AbortSignal.timeout(5000) });
    if (response.ok) return `https://${((await response.json()) as { "m.server": string })["m.server"]}`;
  } catch {
    // no delegation: the default federation port
  }
  return `https://${serverName}:8448`;
}

interface OpenIdToken {
  access_token?: string;
  matrix_server_name?: string;
}

async function matrixUser(openid: OpenIdToken): Promise<string> {
  const base = await federationBase(openid.matrix_server_name!);
  const response = await fetch(`${base}/_matrix/federation/v1/openid/userinfo?access_token=${encodeURIComponent(openid.access_token!)}`, { signal: AbortSignal.timeout(5000) });
  if (!response.ok) throw new Error(`the homeserver answered ${response.status} to the OpenID user info`);
  return ((await response.json()) as { sub: string }).sub;
}

async function createRoom(room: string): Promise<void> {
  const twirp = `${livekitUrl.replace(/^ws/, "http")}/twirp/livekit.RoomService/CreateRoom`;
  const response = await fetch(twirp, {
    method: "POST",
    headers: { authorization: `Bearer ${livekitToken("lk-jwt-service", { roomCreate: true, room })}`, "content-type": "application/json" },
    body: JSON.stringify({ name: room, empty_timeout: 300, departure_timeout: 20 }),
    signal: AbortSignal.timeout(5000),
  });
  if (!response.ok) throw new Error(`LiveKit answered ${response.status} to CreateRoom: ${await response.text()}`);
}

async function grant(room: string, openid: OpenIdToken, device: string) {
  let user: string;
  try {
    user = await matrixUser(openid);
  } catch (error) {
    return matrixError(401, "M_UNAUTHORIZED", `Failed to look up user info from homeserver: ${(error as Error).message}`);
  }
  const server = user.split(":").slice(1).join(":");
  if (fullAccess.includes("*") || fullAccess.includes(server)) await createRoom(room);
  const video = { room, roomJoin: true, canPublish: true, canSubscribe: true, canPublishData: true };
  return json(200, { url: livekitUrl, jwt: livekitToken(`${user}:${device}`, video) });
}

const [host, port] = [bind.slice(0, bind.lastIndexOf(":")) || "0.0.0.0", Number(bind.slice(bind.lastIndexOf(":") + 1))];
serve("lk-jwt", host, port, async (request, url, body) => {
  if (url.pathname === "/healthz") return { status: 200, body: "" };
  if (request.method !== "POST" || !["/sfu/get", "/get_token"].includes(url.pathname)) return matrixError(404, "M_NOT_FOUND", "not found");
  let r: Record<string, any>;
  try {
    r = JSON.parse(body) as Record<string, any>;
  } catch {
    return matrixError(400, "M_BAD_JSON", "The request body was malformed");
  }
  const openid = r.openid_token as OpenIdToken | undefined;
  if (!openid?.access_token || !openid.matrix_server_name) return matrixError(400, "M_BAD_JSON", "The request body is missing `openid_token`");
  if (url.pathname === "/sfu/get") {
    if (!r.room || !r.device_id) return matrixError(400, "M_BAD_JSON", "The request body is missing `room` or `device_id`");
    return grant(String(r.room), openid, String(r.device_id));
  }
  if (!r.room_id || !r.member?.claimed_device_id) return matrixError(400, "M_BAD_JSON", "The request body is missing `room_id` or `member`");
  // Matrix 2.0: the LiveKit room is named by a hash of the Matrix room and the slot.
  const alias = createHash("sha256").update(`${r.room_id}|${r.slot_id ?? "m.call#ROOM"}`).digest("base64url");
  return grant(alias, openid, String(r.member.claimed_device_id));
});
