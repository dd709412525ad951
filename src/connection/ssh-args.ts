import { splitWords } from "../common/words.js";

/** What rigger takes from Ansible's extra ssh arguments (`ansible_ssh_common_args`, `--ssh-common-args`). */
export interface SshArgs {
  /** `user@host:port` hops, outermost first. */
  proxyJump?: string[];
}

/** Options of OpenSSH's that change nothing rigger does: connection sharing, compression, keepalives (rigger keeps one connection per host, with its own keepalive: rigger_ssh_keepalive). */
const HARMLESS = new Set([
  "controlmaster",
  "controlpersist",
  "controlpath",
  "compression",
  "serveraliveinterval",
  "serveralivecountmax",
  "forwardagent",
]);

/** Options rigger cannot honour, and what it does instead. */
const REFUSED: Record<string, string> = {
  stricthostkeychecking:
    "rigger checks every host key against known_hosts; --accept-new-host-keys records the key of a host met for the first time",
  userknownhostsfile: "set rigger_known_hosts_file instead",
  proxycommand: "rigger speaks SSH itself and runs no command to reach a host: use ProxyJump (-J)",
  port: "set ansible_port instead",
  user: "set ansible_user instead",
  identityfile: "set ansible_ssh_private_key_file instead",
};

/**
 * Reads Ansible's extra ssh arguments: `-J` and `-o ProxyJump=` are honoured, connection sharing and
 * compression change nothing, and anything else is refused with what to do instead, never ignored.
 */
export function readSshArgs(text: string | undefined): SshArgs {
  if (!text) return {};
  const words = splitWords(text);
  const result: SshArgs = {};
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (word === "-C") continue;
    const jump = /^-J(.*)$/.exec(word);
    if (jump) {
      result.proxyJump = hops(jump[1] || words[++i]);
      continue;
    }
    const option = /^-o(.*)$/.exec(word);
    if (!option)
      throw new Error(
        `${word}: not an ssh argument rigger can honour (it takes -J and -o ProxyJump=, and ignores -C, connection sharing and keepalives)`,
      );
    const [key, value] = splitOption(option[1] || words[++i] || "");
    if (key === "proxyjump") result.proxyJump = hops(value);
    else if (REFUSED[key]) throw new Error(`-o ${key}: ${REFUSED[key]}`);
    else if (!HARMLESS.has(key))
      throw new Error(
        `-o ${key}: not an ssh option rigger can honour (it takes ProxyJump, and ignores connection sharing, compression and keepalives)`,
      );
  }
  return result;
}

/** `Key=Value` or `Key Value`, the key as OpenSSH compares it (case-insensitive). */
function splitOption(option: string): [string, string] {
  const match = /^([A-Za-z]+)\s*[= ]\s*(.*)$/.exec(option.trim());
  if (!match) throw new Error(`-o ${option}: expected Key=Value`);
  return [match[1]!.toLowerCase(), match[2]!];
}

function hops(value: string | undefined): string[] | undefined {
  if (!value) throw new Error("-J: expected [user@]host[:port] hops");
  return value.toLowerCase() === "none" ? undefined : value.split(",").map((h) => h.trim());
}
