/**
 * Stand-in for lk-jwt-service 0.6.0 (AGPL; not built or fetched here), configured as upstream's
 * config.go reads its environment: LIVEKIT_URL; LIVEKIT_KEY_FILE (`key:secret`, split on `:`,
 * exactly two parts) or LIVEKIT_KEY(_FROM_FILE) + LIVEKIT_SECRET(_FROM_FILE);
 * LIVEKIT_FULL_ACCESS_HOMESERVERS (required); LIVEKIT_JWT_BIND or LIVEKIT_JWT_PORT (default :8080;
 * never both); LIVEKIT_SANITY_CHECK_INTERVAL_SECONDS; LIVEKIT_CS_API_URL_OVERRIDES (`name=url,…`);
 * LIVEKIT_INSECURE_SKIP_VERIFY_TLS. Endpoints as handler.go serves them: POST /sfu/get (legacy),
 * /get_token, /delegate_delayed_leave (CORS on every answer, OPTIONS 200, another method 405),
 * /sfu_webhook (LiveKit's signed webhook), GET/HEAD /healthz. Every behaviour is listed with its
 * upstream source and its test in README.md next to this file.
 */
import { readFileSync } from "node:fs";
import { AccessToken, RoomServiceClient, WebhookReceiver } from "livekit-server-sdk";
import { fatal, matrixError, serve, type Answer } from "./http.js";
import { DelayedLeaves, type SfuSignal } from "./lk-jwt-leave.js";
import {
  decode,
  livekitName,
  shapes,
  validateLegacy,
  validateToken,
  type Delay,
  type LegacyRequest,
  type OpenIdToken,
  type TokenRequest,
} from "./lk-jwt-requests.js";

const env = process.env;
if (env.LIVEKIT_INSECURE_SKIP_VERIFY_TLS === "YES_I_KNOW_WHAT_I_AM_DOING") env.NODE_TLS_REJECT_UNAUTHORIZED = "0";

function keyPair(): [string, string] {
  const read = (file: string) => {
    try {
      return readFileSync(file, "utf8");
    } catch (error) {
      return fatal((error as Error).message);
    }
  };
  let key = env.LIVEKIT_KEY ?? "";
  let secret = env.LIVEKIT_SECRET ?? "";
  if (env.LIVEKIT_KEY_FILE) {
    const parts = read(env.LIVEKIT_KEY_FILE).split(":");
    if (parts.length !== 2) fatal("invalid key secret file format!");
    [key, secret] = parts as [string, string];
  } else {
    if (env.LIVEKIT_KEY_FROM_FILE) key = read(env.LIVEKIT_KEY_FROM_FILE);
    if (env.LIVEKIT_SECRET_FROM_FILE) secret = read(env.LIVEKIT_SECRET_FROM_FILE);
  }
  const trim = (s: string) => s.replace(/^[ \r\n]+|[ \r\n]+$/g, "");
  return [trim(key), trim(secret)];
}

const [apiKey, apiSecret] = keyPair();
const livekitUrl = env.LIVEKIT_URL ?? "";
if (!apiKey || !apiSecret || !livekitUrl) fatal("LIVEKIT_KEY* / LIVEKIT_SECRET* and LIVEKIT_URL must be set");
if (!env.LIVEKIT_FULL_ACCESS_HOMESERVERS)
  fatal(
    "LIVEKIT_FULL_ACCESS_HOMESERVERS environment variable must be set to the homeserver(s) you intend to serve — see README for guidance",
  );
const fullAccess = env.LIVEKIT_FULL_ACCESS_HOMESERVERS.replace(/,/g, " ").split(/\s+/).filter(Boolean);
const sanitySeconds = Number(env.LIVEKIT_SANITY_CHECK_INTERVAL_SECONDS ?? "0");
if (!Number.isInteger(sanitySeconds) || sanitySeconds < 0)
  fatal(
    `LIVEKIT_SANITY_CHECK_INTERVAL_SECONDS must be a non-negative integer, got "${env.LIVEKIT_SANITY_CHECK_INTERVAL_SECONDS}"`,
  );
// `name=url` pairs, each cut at its first "=" (a URL may hold more).
const csApiOverrides = new Map(
  (env.LIVEKIT_CS_API_URL_OVERRIDES ?? "")
    .split(",")
    .filter((s) => s.trim())
    .map((pair) => {
      const at = pair.indexOf("=");
      const [name, url] = at < 0 ? ["", ""] : [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
      if (!name || !url) fatal(`failed parsing LIVEKIT_CS_API_URL_OVERRIDES: expected name=url, got "${pair}"`);
      return [name, url] as [string, string];
    }),
);
if (env.LIVEKIT_JWT_BIND && env.LIVEKIT_JWT_PORT)
  fatal("LIVEKIT_JWT_BIND and LIVEKIT_JWT_PORT are both set: set one of them");
const bind = env.LIVEKIT_JWT_BIND || `:${env.LIVEKIT_JWT_PORT || "8080"}`;

// LiveKit's server SDK, as upstream uses LiveKit's Go SDK: the room service at LIVEKIT_URL (over HTTP(S)), the webhook's signature.
const rooms = new RoomServiceClient(livekitUrl.replace(/^ws/, "http"), apiKey, apiSecret);
const webhooks = new WebhookReceiver(apiKey, apiSecret);

const LEGACY_SLOT = "m.call#ROOM";

const leaves = new DelayedLeaves(async (room, identity) => {
  try {
    await rooms.getParticipant(room, identity);
    return true;
  } catch (error) {
    return (error as { status?: number }).status === 404 ? false : undefined;
  }
}, sanitySeconds * 1000);

class Refused extends Error {
  constructor(readonly answer: Answer) {
    super(String((answer.body as { error?: string }).error));
  }
}
const refuse = (status: number, errcode: string, error: string): never => {
  throw new Refused(matrixError(status, errcode, error));
};
const UNAUTHORISED = "The request could not be authorised.";

/** A federation address without a port is on 8448 (an IPv6 literal keeps its brackets). */
const withPort = (server: string) => (/:\d+$/.test(server) ? server : `${server}:8448`);

/** The homeserver's federation address: /.well-known/matrix/server's m.server, else the server name, each on 8448 without a port (SRV is not looked up by this stand-in). */
async function federationBase(serverName: string): Promise<string> {
  try {
    const response = await fetch(`https://${serverName}/.well-known/matrix/server`, {
      signal: AbortSignal.timeout(5000),
    });
    if (response.ok) return `https://${withPort(((await response.json()) as { "m.server": string })["m.server"])}`;
  } catch {
    // no delegation: the server name itself
  }
  return `https://${withPort(serverName)}`;
}

/** The client-server API of a server name, as resolveCsApiUrl finds it: an override, else its well-known's m.homeserver.base_url (kept 4 h); undefined when neither answers. */
const csApiCache = new Map<string, { url: string; until: number }>();
async function resolveCsApiUrl(serverName: string): Promise<string | undefined> {
  const override = csApiOverrides.get(serverName);
  if (override) return override;
  const cached = csApiCache.get(serverName);
  if (cached && cached.until > Date.now()) return cached.url;
  try {
    const response = await fetch(`https://${serverName}/.well-known/matrix/client`, {
      signal: AbortSignal.timeout(5000),
    });
    const url = response.ok
      ? ((await response.json()) as { "m.homeserver"?: { base_url?: string } })["m.homeserver"]?.base_url
      : undefined;
    if (!url) return undefined;
    csApiCache.set(serverName, { url, until: Date.now() + 4 * 3600_000 });
    return url;
  } catch (error) {
    console.log(`lk-jwt: the client-server API of ${serverName} could not be resolved: ${(error as Error).message}`);
    return undefined;
  }
}

/** verifyOpenIDToken: the user behind the OpenID token, which must be the claimed one when a claim is made. */
async function verifiedUser(token: OpenIdToken, claimedUserId: string): Promise<string> {
  let sub: string | undefined;
  try {
    const base = await federationBase(token.matrix_server_name);
    const response = await fetch(
      `${base}/_matrix/federation/v1/openid/userinfo?access_token=${encodeURIComponent(token.access_token)}`,
      { signal: AbortSignal.timeout(5000) },
    );
    if (response.ok) sub = ((await response.json()) as { sub?: string }).sub;
  } catch (error) {
    console.log(`lk-jwt: OpenID user info from ${token.matrix_server_name} failed: ${(error as Error).message}`);
  }
  // The user must belong to the server that vouched for them.
  const ofServer = sub?.slice(sub.indexOf(":") + 1) === token.matrix_server_name;
  if (!sub || !ofServer || (claimedUserId && claimedUserId !== sub)) refuse(401, "M_UNAUTHORIZED", UNAUTHORISED);
  return sub!;
}

const isFullAccess = (serverName: string) =>
  (fullAccess.length === 1 && fullAccess[0] === "*") || fullAccess.includes(serverName);

function joinToken(room: string, identity: string): Promise<string> {
  const token = new AccessToken(apiKey, apiSecret, { identity, ttl: 3600 });
  token.addGrant({ room, roomJoin: true, canPublish: true, canSubscribe: true, canUpdateOwnMetadata: true });
  return token.toJwt();
}

async function createRoom(room: string): Promise<void> {
  try {
    await rooms.createRoom({ name: room, emptyTimeout: 300, departureTimeout: 20, maxParticipants: 0 });
  } catch (error) {
    console.log(`lk-jwt: CreateRoom ${room} failed: ${(error as Error).message}`);
    refuse(500, "M_UNKNOWN", "Unable to create room on SFU");
  }
}

/** Where the delegated leave goes, found before anything is created: 400 when the server name's client-server API cannot be found (the request's delay_cs_api_url is ignored). */
async function leaveTarget(token: OpenIdToken): Promise<string> {
  return (
    (await resolveCsApiUrl(token.matrix_server_name)) ??
    refuse(400, "M_BAD_JSON", "Unable to resolve client-server API")
  );
}

function addLeave(csApiUrl: string, delay: Delay, room: string, identity: string) {
  leaves.add({ room, identity, delayId: delay.delay_id, timeoutMs: delay.delay_timeout, csApiUrl });
}

/** processLegacySFURequest and processSFURequest: verify, decide access, create the room for full access, mint the token. */
async function grant(
  token: OpenIdToken,
  delay: Delay,
  claimedUserId: string,
  names: (user: string) => { room: string; identity: string },
) {
  const user = await verifiedUser(token, claimedUserId);
  const full = isFullAccess(token.matrix_server_name);
  if (delay.delay_id && !full)
    refuse(400, "M_BAD_JSON", "Delegation of delayed events is only supported for full access users");
  const { room, identity } = names(user);
  const jwt = await joinToken(room, identity);
  if (full) {
    const csApiUrl = delay.delay_id ? await leaveTarget(token) : undefined;
    await createRoom(room);
    if (csApiUrl) addLeave(csApiUrl, delay, room, identity);
  }
  console.log(`lk-jwt: token for ${user} (${full ? "full" : "restricted"} access) in ${room} as ${identity}`);
  return { url: livekitUrl, jwt };
}

const tokenNames = (r: TokenRequest) => (user: string) => ({
  room: livekitName(r.room_id, r.slot_id),
  identity: livekitName(user, r.member.claimed_device_id, r.member.id),
});

const endpoints: Record<string, (body: string) => Promise<unknown>> = {
  "/sfu/get": async (body) => {
    const r = decoded<LegacyRequest>(body, shapes.legacy);
    badJson(validateLegacy(r));
    return grant(r.openid_token, r, "", (user) => ({
      room: livekitName(r.room, LEGACY_SLOT),
      identity: `${user}:${r.device_id}`,
    }));
  },
  "/get_token": async (body) => {
    const r = decoded<TokenRequest>(body, shapes.token);
    badJson(validateToken(r, false));
    return grant(r.openid_token, r, r.member.claimed_user_id, tokenNames(r));
  },
  "/delegate_delayed_leave": async (body) => {
    const r = decoded<TokenRequest>(body, shapes.token);
    badJson(validateToken(r, true));
    const user = await verifiedUser(r.openid_token, r.member.claimed_user_id);
    if (!isFullAccess(r.openid_token.matrix_server_name))
      refuse(403, "M_FORBIDDEN", "Delegation of delayed events is only supported for full access users");
    const { room, identity } = tokenNames(r)(user);
    addLeave(await leaveTarget(r.openid_token), r, room, identity);
    return {};
  },
};

function decoded<T>(body: string, shape: Parameters<typeof decode>[1]): T {
  return decode<T>(body, shape) ?? refuse(400, "M_NOT_JSON", "Error reading request");
}
function badJson(invalid: string | undefined) {
  if (invalid) refuse(400, "M_BAD_JSON", invalid);
}

const CORS = {
  "access-control-allow-origin": "*",
  "access-control-allow-methods": "POST",
  "access-control-allow-headers": "Accept, Content-Type, Content-Length, Accept-Encoding, X-CSRF-Token",
};

/** handleSfuWebhook: a participant event, checked against the API key's signature, routed to its delegated leave. Always 200, as upstream. */
async function sfuWebhook(body: string, authorization: string | undefined): Promise<Answer> {
  try {
    const event = await webhooks.receive(body, authorization);
    const identity = event.participant?.identity;
    const room = event.room?.name;
    if (room && identity) {
      const left = (): SfuSignal =>
        event.participant?.disconnectReason === 1 /* CLIENT_INITIATED */ ? "left" : "aborted";
      const signal =
        event.event === "participant_joined"
          ? "joined"
          : ["participant_left", "participant_connection_aborted"].includes(event.event)
            ? left()
            : undefined;
      console.log(`lk-jwt: webhook ${event.event} ${identity} in ${room}`);
      if (signal) leaves.sfuEvent(room, identity, signal);
    }
  } catch (error) {
    console.log(`lk-jwt: SFU webhook error: ${(error as Error).message}`);
  }
  return { status: 200 };
}

const [host, port] = [bind.slice(0, bind.lastIndexOf(":")) || "0.0.0.0", Number(bind.slice(bind.lastIndexOf(":") + 1))];
serve("lk-jwt", host, port, async (request, url, body) => {
  const method = request.method ?? "GET";
  if (url.pathname === "/healthz") return { status: method === "GET" || method === "HEAD" ? 200 : 405 };
  if (url.pathname === "/sfu_webhook") return sfuWebhook(body, request.headers.authorization);
  const endpoint = endpoints[url.pathname];
  if (!endpoint) return { status: 404, body: "404 page not found\n" };
  const answer = async (): Promise<Answer> => {
    if (method === "OPTIONS") return { status: 200 };
    if (method !== "POST") return { status: 405 };
    try {
      return { status: 200, body: await endpoint(body) };
    } catch (error) {
      if (error instanceof Refused) return error.answer;
      throw error;
    }
  };
  return { type: "application/json", ...(await answer()), headers: CORS };
});
