import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { homedir, userInfo } from "node:os";
import { join } from "node:path";

/** What an OpenSSH client config says about one host alias (only the options rigger uses; unset where it says nothing). */
export interface SshConfigEntry {
  hostName?: string;
  user?: string;
  port?: number;
  identityFile?: string;
  /** `user@host:port` hops, outermost first; absent when `none`. */
  proxyJump?: string[];
}

/** Where an alias leads, from the operator's OpenSSH config. */
export interface SshConfig {
  lookup(alias: string): Promise<SshConfigEntry>;
}

/** No config file: nothing to add to the inventory's settings. */
export const NO_SSH_CONFIG: SshConfig = { lookup: async () => ({}) };

/** The identity files OpenSSH tries when the config names none: `ssh -G` lists them all, and none was chosen. */
const DEFAULT_IDENTITIES = [
  "id_rsa",
  "id_ecdsa",
  "id_ecdsa_sk",
  "id_ed25519",
  "id_ed25519_sk",
  "id_xmss",
  "id_dsa",
].map((f) => `~/.ssh/${f}`);

/**
 * An OpenSSH client config as OpenSSH itself reads it: `ssh -G` resolves Include, Match, tokens and
 * canonicalisation, so an alias is dialled where `ssh alias` would go. Each alias is asked once.
 */
export function openSshConfig(file: string): SshConfig {
  if (!existsSync(file)) return NO_SSH_CONFIG;
  const cache = new Map<string, Promise<SshConfigEntry>>();
  return {
    lookup(alias) {
      if (!cache.has(alias)) cache.set(alias, resolve(file, alias));
      return cache.get(alias)!;
    },
  };
}

function resolve(file: string, alias: string): Promise<SshConfigEntry> {
  return new Promise((done, fail) => {
    execFile("ssh", ["-G", "-F", file, "--", alias], { timeout: 10_000 }, (error, stdout, stderr) => {
      if ((error as NodeJS.ErrnoException | null)?.code === "ENOENT")
        return fail(
          new Error(
            `${file}: reading it needs OpenSSH's client (ssh -G), which is not installed here (apt install openssh-client), or --ssh-config /dev/null`,
          ),
        );
      if (error)
        return fail(
          new Error(`${file}: ssh -G ${alias} refused it: ${stderr.trim().split("\n").pop() || error.message}`),
        );
      try {
        done(entryOf(alias, stdout));
      } catch (problem) {
        fail(new Error(`${file}: ${(problem as Error).message}`));
      }
    });
  });
}

/** `ssh -G`'s lines (`key value`, every option with its default) as what the config sets. */
export function entryOf(alias: string, output: string): SshConfigEntry {
  const values = new Map<string, string[]>();
  for (const line of output.split("\n")) {
    const space = line.indexOf(" ");
    if (space < 0) continue;
    const key = line.slice(0, space).toLowerCase();
    values.set(key, [...(values.get(key) ?? []), line.slice(space + 1)]);
  }
  const one = (key: string) => values.get(key)?.[0];
  const proxyCommand = one("proxycommand");
  if (proxyCommand && proxyCommand !== "none")
    throw new Error(`${alias}: ProxyCommand is not something rigger runs (it speaks SSH itself); use ProxyJump`);
  const identities = values.get("identityfile") ?? [];
  const chosen = identities.join("\n") === DEFAULT_IDENTITIES.join("\n") ? undefined : identities[0];
  const jump = one("proxyjump");
  const port = Number(one("port"));
  return {
    hostName: one("hostname") === alias ? undefined : one("hostname"),
    user: one("user") === userInfo().username ? undefined : one("user"),
    port: port && port !== 22 ? port : undefined,
    identityFile: chosen ? expandHome(chosen) : undefined,
    proxyJump: jump && jump.toLowerCase() !== "none" ? jump.split(",").map((h) => h.trim()) : undefined,
  };
}

const expandHome = (path: string) => (path.startsWith("~/") ? join(homedir(), path.slice(2)) : path);

/** `[user@]host[:port]` of a ProxyJump hop. */
export function parseJump(hop: string): { user?: string; host: string; port?: number } {
  const match = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hop);
  if (!match) throw new Error(`ProxyJump "${hop}": expected [user@]host[:port]`);
  return { user: match[1], host: match[2]!.replace(/^\[|\]$/g, ""), port: match[3] ? Number(match[3]) : undefined };
}
