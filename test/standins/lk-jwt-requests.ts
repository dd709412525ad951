/**
 * The jwt service's request bodies as its Go decoder reads them (requests.go, `DisallowUnknownFields`):
 * the first JSON value of the body (what follows it is not read); an unknown field at any level, a
 * value of the wrong JSON type or a value that is not a JSON object is undecodable (M_NOT_JSON);
 * names match case-insensitively; `null` leaves a field empty. Then each endpoint's `Validate()`: a
 * missing parameter is M_BAD_JSON with upstream's message. `delay_cs_api_url` is still a field
 * (decoded), but 0.6.0 ignores it: the homeserver is found from the server name (lk-jwt.ts).
 */
import { createHash } from "node:crypto";

/** The deterministic LiveKit name for a tuple: unpadded standard base64 of sha256 of its JSON array (helper.go). */
export const livekitName = (...parts: string[]) =>
  createHash("sha256").update(JSON.stringify(parts)).digest("base64").replace(/=+$/, "");

type Shape = { [field: string]: "string" | "int" | Shape };

const openidToken: Shape = {
  access_token: "string",
  token_type: "string",
  matrix_server_name: "string",
  expires_in: "int",
};
const member: Shape = { id: "string", claimed_user_id: "string", claimed_device_id: "string" };
const delay: Shape = { delay_id: "string", delay_timeout: "int", delay_cs_api_url: "string" };

export const shapes = {
  legacy: { room: "string", openid_token: openidToken, device_id: "string", ...delay },
  token: { room_id: "string", slot_id: "string", openid_token: openidToken, member, ...delay },
} satisfies Record<string, Shape>;

export interface OpenIdToken {
  access_token: string;
  matrix_server_name: string;
}
export interface Delay {
  delay_id: string;
  delay_timeout: number;
  delay_cs_api_url: string;
}
export interface LegacyRequest extends Delay {
  room: string;
  device_id: string;
  openid_token: OpenIdToken;
}
export interface TokenRequest extends Delay {
  room_id: string;
  slot_id: string;
  openid_token: OpenIdToken;
  member: { id: string; claimed_user_id: string; claimed_device_id: string };
}

/** The body decoded into the shape (every field present, empty when absent), or undefined where Go's decoder fails. */
export function decode<T>(body: string, shape: Shape): T | undefined {
  let value: unknown;
  try {
    value = JSON.parse(firstJsonValue(body));
  } catch {
    return undefined;
  }
  return fill(value, shape) as T | undefined;
}

/** The text of the body's first JSON object or array (Go's json.Decoder reads one value and stops); else the body itself. */
function firstJsonValue(body: string): string {
  const start = body.search(/\S/);
  if (start < 0 || !"{[".includes(body[start]!)) return body;
  let depth = 0;
  let inString = false;
  for (let i = start; i < body.length; i++) {
    const c = body[i]!;
    if (inString) {
      if (c === "\\") i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === "{" || c === "[") depth++;
    else if ((c === "}" || c === "]") && --depth === 0) return body.slice(start, i + 1);
  }
  return body;
}

function fill(value: unknown, shape: Shape): Record<string, unknown> | undefined {
  if (value === null) value = {};
  if (typeof value !== "object" || Array.isArray(value)) return undefined;
  const out: Record<string, unknown> = {};
  for (const [field, type] of Object.entries(shape))
    out[field] = typeof type === "object" ? fill({}, type) : type === "int" ? 0 : "";
  for (const [given, v] of Object.entries(value as Record<string, unknown>)) {
    const field = Object.keys(shape).find((f) => f.toLowerCase() === given.toLowerCase());
    if (!field) return undefined;
    const type = shape[field]!;
    if (v === null) continue;
    if (typeof type === "object") {
      const nested = fill(v, type);
      if (!nested) return undefined;
      out[field] = nested;
    } else if (type === "int" ? !Number.isSafeInteger(v) : typeof v !== "string") return undefined;
    else out[field] = v;
  }
  return out;
}

export type Invalid = string;
const missingOpenId = (t: OpenIdToken) => !t.access_token || !t.matrix_server_name;
/** One of the two delegation parameters without the other (delay_cs_api_url counts for nothing: ignored). */
const partialDelay = (d: Delay) => (d.delay_id !== "") !== d.delay_timeout > 0;
const DELAY_MISSING = "The request body is missing `delay_id` or `delay_timeout`";

/** LegacySFURequest.Validate() */
export function validateLegacy(r: LegacyRequest): Invalid | undefined {
  if (!r.room) return "Missing room parameter";
  if (missingOpenId(r.openid_token)) return "Missing OpenID token parameters";
  if (partialDelay(r)) return DELAY_MISSING;
  return undefined;
}

/** SFURequest.Validate(), and with `delegated` DelegateDelayedLeaveRequest.Validate() (the delay parameters required). */
export function validateToken(r: TokenRequest, delegated: boolean): Invalid | undefined {
  if (!r.room_id || !r.slot_id) return "The request body is missing `room_id` or `slot_id`";
  const m = r.member;
  if (!m.id || !m.claimed_user_id || !m.claimed_device_id)
    return delegated
      ? "The request body `member` is missing `id`, `claimed_user_id` or `claimed_device_id`"
      : "The request body `member` is missing a `id`, `claimed_user_id` or `claimed_device_id`";
  if (missingOpenId(r.openid_token))
    return delegated
      ? "The request body `openid_token` is missing `access_token` or `matrix_server_name`"
      : "The request body `openid_token` is missing a `access_token` or `matrix_server_name`";
  if (delegated ? !r.delay_id || r.delay_timeout <= 0 : partialDelay(r)) return DELAY_MISSING;
  return undefined;
}
