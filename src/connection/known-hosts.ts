import { createHash, createHmac } from "node:crypto";
import { globToRegExp, patternListMatches } from "../common/glob.js";

/** One usable line of an OpenSSH known_hosts file. */
export interface KnownHostEntry {
  /** The host patterns as written, or a hashed `|1|salt|hash` entry. */
  hosts: string[];
  keyType: string;
  /** The public key blob (base64-decoded). */
  key: Buffer;
  /** `@revoked`: this key is refused wherever it is presented; `@cert-authority`: it signs host certificates. */
  marker?: "revoked" | "cert-authority";
}

const MARKERS = { "@revoked": "revoked", "@cert-authority": "cert-authority" } as const;

/** Parses known_hosts text, @revoked and @cert-authority lines included; comments and unknown markers are skipped. */
export function parseKnownHosts(text: string): KnownHostEntry[] {
  const entries: KnownHostEntry[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const fields = line.split(/\s+/);
    const marker = fields[0]!.startsWith("@") ? MARKERS[fields.shift() as keyof typeof MARKERS] : undefined;
    if (line.startsWith("@") && !marker) continue;
    const [hosts, keyType, keyBase64] = fields;
    if (!hosts || !keyType || !keyBase64) continue;
    entries.push({
      hosts: hosts.split(","),
      keyType,
      key: Buffer.from(keyBase64, "base64"),
      ...(marker ? { marker } : {}),
    });
  }
  return entries;
}

/** The name known_hosts uses for a host: `host`, or `[host]:port` off port 22. */
export function knownHostsName(host: string, port: number): string {
  return port === 22 ? host : `[${host}]:${port}`;
}

function matchesPattern(pattern: string, name: string): boolean {
  if (pattern.startsWith("|1|")) {
    const [, , salt, hash] = pattern.split("|");
    if (!salt || !hash) return false;
    return createHmac("sha1", Buffer.from(salt, "base64")).update(name).digest("base64") === hash;
  }
  return globToRegExp(pattern, "i").test(name);
}

/** The entries for a host with this marker (none: its plain keys); a `!pattern` match excludes the entry. */
export function keysForHost(
  entries: KnownHostEntry[],
  host: string,
  port: number,
  marker?: KnownHostEntry["marker"],
): KnownHostEntry[] {
  const name = knownHostsName(host, port);
  return entries.filter(
    (entry) => entry.marker === marker && patternListMatches(entry.hosts, (p) => matchesPattern(p, name)),
  );
}

/** OpenSSH's fingerprint notation: `SHA256:` and unpadded base64. */
export function fingerprint(key: Buffer): string {
  return "SHA256:" + createHash("sha256").update(key).digest("base64").replace(/=+$/, "");
}

/** The key type named inside an SSH public key blob (its first length-prefixed string). */
export function keyTypeOf(key: Buffer): string {
  const length = key.readUInt32BE(0);
  return key.subarray(4, 4 + length).toString("ascii");
}

/** A known_hosts line recording a key, hashed as `ssh-keygen -H` would. */
export function knownHostsLine(host: string, port: number, key: Buffer, salt: Buffer): string {
  const hash = createHmac("sha1", salt).update(knownHostsName(host, port)).digest("base64");
  return `|1|${salt.toString("base64")}|${hash} ${keyTypeOf(key)} ${key.toString("base64")}`;
}
