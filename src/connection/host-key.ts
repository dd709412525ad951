/** The host's key checked against known_hosts as OpenSSH checks it (hashed names, @revoked, @cert-authority), a new one recorded when asked. */
import { randomBytes } from "node:crypto";
import { appendFile, readFile } from "node:fs/promises";
import { HostKeyError } from "./errors.js";
import { fingerprint, keysForHost, knownHostsLine, parseKnownHosts } from "./known-hosts.js";

/** What the check needs of a connection's target. */
export interface HostKeyTarget {
  name: string;
  host: string;
  port: number;
  knownHostsFile: string;
  /** Record the key of a host not yet in known_hosts. */
  acceptNewHostKeys?: boolean;
}

export async function readKnownHosts(file: string): Promise<string> {
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return "";
    throw error;
  }
}

export async function verifyHostKey(target: HostKeyTarget, knownHosts: string, key: Buffer): Promise<void> {
  const entries = parseKnownHosts(knownHosts);
  const recorded = keysForHost(entries, target.host, target.port);
  const presented = fingerprint(key);
  if (keysForHost(entries, target.host, target.port, "revoked").some((entry) => entry.key.equals(key)))
    throw new HostKeyError(
      target.name,
      `${target.name}: the host key of ${target.host}:${target.port} (${presented}) is marked @revoked in ${target.knownHostsFile}: refused`,
      presented,
      [],
    );
  if (recorded.some((entry) => entry.key.equals(key))) return;
  if (recorded.length > 0) {
    const expected = recorded.map((entry) => fingerprint(entry.key));
    throw new HostKeyError(
      target.name,
      `${target.name}: HOST KEY MISMATCH for ${target.host}:${target.port}: it presented ${presented}, ` +
        `${target.knownHostsFile} records ${expected.join(", ")}. If the host was rebuilt, remove its old entry.`,
      presented,
      expected,
    );
  }
  if (keysForHost(entries, target.host, target.port, "cert-authority").length > 0) {
    throw new HostKeyError(
      target.name,
      `${target.name}: ${target.knownHostsFile} trusts a @cert-authority for ${target.host}:${target.port}, and rigger cannot check host certificates: ` +
        `add the host's own key (${presented}, after verifying it) beside the authority`,
      presented,
      [],
    );
  }
  if (!target.acceptNewHostKeys) {
    throw new HostKeyError(
      target.name,
      `${target.name}: the host key of ${target.host}:${target.port} (${presented}) is not in ${target.knownHostsFile}; ` +
        `verify it and add it, or run with --accept-new-host-keys to record it`,
      presented,
      [],
    );
  }
  await appendFile(target.knownHostsFile, knownHostsLine(target.host, target.port, key, randomBytes(20)) + "\n", {
    mode: 0o600,
  });
}
