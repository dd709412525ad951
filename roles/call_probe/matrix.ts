/**
 * The Matrix side of the call probe, as Element Call does it: a user of the homeserver asks it for
 * an OpenID token and exchanges that at the jwt service for a LiveKit URL and token. The probe's
 * users are registered once with Synapse's shared secret (its admin API, reached on the host's
 * loopback through the SSH connection) and log in with their password afterwards.
 */
import { createHmac } from "node:crypto";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import type { Duplex } from "node:stream";
import { astray, foundFoci, TRANSPORTS_PATH } from "./discovery.js";
import type { Grant } from "./call.js";

export interface JsonAnswer {
  status: number;
  body: Record<string, any>;
}

export interface RequestOptions {
  method?: "GET" | "POST";
  body?: unknown;
  headers?: Record<string, string>;
  /** Certificates to trust besides the system's (Caddy's own CA with caddy_tls internal). */
  ca?: string;
  /** Send the request over this stream instead of a new connection (an SSH tunnel). */
  stream?: Duplex;
}

/** One JSON request over HTTP(S); any answer with a JSON body is returned, whatever its status. */
export function requestJson(url: string, options: RequestOptions = {}): Promise<JsonAnswer> {
  const payload = options.body === undefined ? undefined : JSON.stringify(options.body);
  const request = url.startsWith("https:") ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method: options.method ?? (payload === undefined ? "GET" : "POST"),
        headers: { ...(payload === undefined ? {} : { "content-type": "application/json" }), ...options.headers },
        timeout: 15_000,
        ...(options.ca ? { ca: options.ca } : {}),
        ...(options.stream ? { createConnection: () => options.stream! } : {}),
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (text += chunk));
        res.on("end", () => {
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as Record<string, any> });
          } catch {
            reject(new Error(`${url} answered ${res.statusCode} without JSON: ${text.slice(0, 120)}`));
          }
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`${url}: no answer within 15 s`)));
    req.on("error", reject);
    req.end(payload);
  });
}

export interface MatrixSide {
  /** The homeserver's public base URL, https://matrix_host. */
  homeserver: string;
  /** The jwt service's public URL, https://matrix_host/_livekit. */
  jwtService: string;
  ca?: string;
  /** Synapse's client listener on the homeserver host's loopback (for its admin API). */
  synapseAdmin: () => Promise<Duplex>;
  registrationSecret: string;
}

/** Synapse's shared-secret registration MAC (HMAC-SHA1 over nonce, user, password and "notadmin"). */
export const registrationMac = (secret: string, nonce: string, user: string, password: string) =>
  createHmac("sha1", secret).update(`${nonce}\0${user}\0${password}\0notadmin`).digest("hex");

/** Registers the user with the shared secret: its access token when it is new, nothing when it already exists. */
export async function register(side: MatrixSide, user: string, password: string): Promise<string | undefined> {
  const admin = "http://127.0.0.1/_synapse/admin/v1/register";
  const { body: nonce } = await requestJson(admin, { stream: await side.synapseAdmin() });
  const mac = registrationMac(side.registrationSecret, nonce.nonce, user, password);
  const registered = await requestJson(admin, {
    stream: await side.synapseAdmin(),
    body: { nonce: nonce.nonce, username: user, password, admin: false, mac },
  });
  if (registered.status === 200) return registered.body.access_token as string;
  if (registered.body.errcode !== "M_USER_IN_USE")
    throw new Error(
      `registering ${user}: ${registered.status} ${registered.body.errcode ?? ""} ${registered.body.error ?? ""}`,
    );
  return undefined;
}

/** The user's access token: registered with the shared secret the first time, logged in with its password later. */
export async function accessToken(side: MatrixSide, user: string, password: string): Promise<string> {
  const token = await register(side, user, password);
  if (token) return token;
  const login = await requestJson(`${side.homeserver}/_matrix/client/v3/login`, {
    ca: side.ca,
    body: { type: "m.login.password", identifier: { type: "m.id.user", user }, password },
  });
  if (login.status !== 200)
    throw new Error(`logging in ${user}: ${login.status} ${login.body.errcode ?? ""} ${login.body.error ?? ""}`);
  return login.body.access_token as string;
}

/** What Element Call does to join a call: an OpenID token from the homeserver, exchanged at the jwt service. */
export async function livekitGrant(
  side: MatrixSide,
  userId: string,
  token: string,
  room: string,
  device: string,
): Promise<Grant> {
  const openid = await requestJson(
    `${side.homeserver}/_matrix/client/v3/user/${encodeURIComponent(userId)}/openid/request_token`,
    {
      ca: side.ca,
      body: {},
      headers: { authorization: `Bearer ${token}` },
    },
  );
  if (openid.status !== 200)
    throw new Error(
      `OpenID token for ${userId}: ${openid.status} ${openid.body.errcode ?? ""} ${openid.body.error ?? ""}`,
    );
  const granted = await requestJson(`${side.jwtService}/sfu/get`, {
    ca: side.ca,
    body: { room, openid_token: openid.body, device_id: device },
  });
  if (granted.status !== 200)
    throw new Error(
      `the jwt service refused ${userId}: ${granted.status} ${granted.body.errcode ?? ""} ${granted.body.error ?? ""}`,
    );
  return { url: granted.body.url as string, jwt: granted.body.jwt as string };
}

/**
 * Where Element Call finds the SFU, as a signed-in user: the MSC4143 transports (which it prefers,
 * and keeps for about a day) and the server name's well-known. Both must name the jwt service.
 */
export async function discoveredFocus(side: MatrixSide, serverName: string, token: string): Promise<string> {
  const [transports, wellKnown] = await Promise.all([
    requestJson(`${side.homeserver}${TRANSPORTS_PATH}`, { ca: side.ca, headers: { authorization: `Bearer ${token}` } }),
    requestJson(`https://${serverName}/.well-known/matrix/client`, { ca: side.ca }),
  ]);
  const found = foundFoci(transports.body, wellKnown.body, serverName);
  const wrong = astray(found, side.jwtService);
  if (wrong) throw new Error(wrong);
  return `${found.map(([where]) => where).join(" and ")} name ${side.jwtService}`;
}
