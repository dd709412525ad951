/** Where and how to reach a host over SSH, and what a failure to reach it is called. */
import { AuthenticationError, UnreachableError, type ConnectionError } from "./errors.js";

export interface SshTarget {
  /** The inventory name, used in every message. */
  name: string;
  host: string;
  port: number;
  user: string;
  privateKeyFile?: string;
  knownHostsFile: string;
  /** Record the key of a host that known_hosts does not list yet (never replaces a listed key). */
  acceptNewHostKeys?: boolean;
  /** TCP connect plus the SSH handshake (Ansible's --timeout). */
  connectTimeoutMs?: number;
  /**
   * A keepalive goes out every interval; a connection from which nothing at all has been heard
   * for interval x count is declared unreachable (OpenSSH's ServerAliveInterval/CountMax).
   */
  keepaliveIntervalMs?: number;
  keepaliveCountMax?: number;
  /** Concurrent channels on the one connection (OpenSSH's MaxSessions is 10, freed with a lag). */
  maxChannels?: number;
  /** Reach this host through another (ProxyJump): a TCP channel opened from there. */
  jump?: SshTarget;
}

/** Refused, timed out, reset, no route, no name: all of them mean the host cannot be reached. */
export function classifyConnectError(target: SshTarget, error: Error & { level?: string }): ConnectionError {
  if (error.level === "client-authentication")
    return new AuthenticationError(
      target.name,
      target.user,
      target.privateKeyFile
        ? `${target.privateKeyFile} was refused (${error.message})`
        : `neither the ssh-agent nor ~/.ssh/id_{ed25519,ecdsa,rsa} was accepted (${error.message})`,
    );
  return new UnreachableError(target.name, error.message);
}
