import { homedir } from "node:os";
import { join } from "node:path";
import { globToRegExp, patternListMatches } from "../common/glob.js";

/** What an OpenSSH client config says about one host alias (only the options rigger uses). */
export interface SshConfigEntry {
  hostName?: string;
  user?: string;
  port?: number;
  identityFile?: string;
  /** `user@host:port` hops, outermost first; absent when `none`. */
  proxyJump?: string[];
}

interface Block {
  patterns: string[];
  options: Array<[string, string]>;
}

const KEYS = ["hostname", "user", "port", "identityfile", "proxyjump"];

export function parseSshConfig(text: string): Block[] {
  const blocks: Block[] = [{ patterns: ["*"], options: [] }];
  let current: Block | undefined = blocks[0];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (line === "" || line.startsWith("#")) continue;
    const match = /^(\S+?)\s*(?:=\s*|\s+)(.+)$/.exec(line);
    if (!match) continue;
    const key = match[1]!.toLowerCase();
    const value = match[2]!.replace(/^"(.*)"$/, "$1");
    if (key === "host") blocks.push((current = { patterns: value.split(/\s+/), options: [] }));
    // Match blocks need conditions rigger does not evaluate: their options are not applied.
    else if (key === "match") current = undefined;
    else if (current && KEYS.includes(key)) current.options.push([key, value]);
  }
  return blocks;
}

const matches = (patterns: string[], alias: string) => patternListMatches(patterns, (p) => globToRegExp(p).test(alias));

const expandHome = (path: string) => (path.startsWith("~/") ? join(homedir(), path.slice(2)) : path);

/** The options for an alias: as OpenSSH does, the first value found for each option wins. */
export function sshConfigFor(blocks: Block[], alias: string): SshConfigEntry {
  const found = new Map<string, string>();
  // The implicit leading block holds options before any Host line: they apply to every host, first.
  for (const block of blocks) {
    if (!matches(block.patterns, alias)) continue;
    for (const [key, value] of block.options) if (!found.has(key)) found.set(key, value);
  }
  const jump = found.get("proxyjump");
  return {
    hostName: found.get("hostname")?.replace(/%h/g, alias),
    user: found.get("user"),
    port: found.has("port") ? Number(found.get("port")) : undefined,
    identityFile: found.has("identityfile") ? expandHome(found.get("identityfile")!) : undefined,
    proxyJump: jump && jump.toLowerCase() !== "none" ? jump.split(",").map((h) => h.trim()) : undefined,
  };
}

/** `[user@]host[:port]` of a ProxyJump hop. */
export function parseJump(hop: string): { user?: string; host: string; port?: number } {
  const match = /^(?:([^@]+)@)?(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(hop);
  if (!match) throw new Error(`ProxyJump "${hop}": expected [user@]host[:port]`);
  return { user: match[1], host: match[2]!.replace(/^\[|\]$/g, ""), port: match[3] ? Number(match[3]) : undefined };
}
