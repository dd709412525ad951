import { existsSync, readFileSync } from "node:fs";
import { userInfo } from "node:os";
import { parseJump, parseSshConfig, sshConfigFor } from "../connection/ssh-config.js";
import type { SshTarget } from "../connection/ssh.js";
import type { ConnectionVars } from "../inventory/connection-vars.js";

export type SshConfig = ReturnType<typeof parseSshConfig>;
/** What every hop of a host's connection shares. */
type Common = Pick<SshTarget, "knownHostsFile" | "acceptNewHostKeys" | "connectTimeoutMs" | "keepaliveIntervalMs" | "keepaliveCountMax">;

/** The run's connect timeout and the host's keepalive settings, where set. */
export function linkSettings(vars: ConnectionVars, connectTimeoutSeconds: number | undefined): Pick<SshTarget, "connectTimeoutMs" | "keepaliveIntervalMs" | "keepaliveCountMax"> {
  return {
    ...(connectTimeoutSeconds ? { connectTimeoutMs: connectTimeoutSeconds * 1000 } : {}),
    ...(vars.rigger_ssh_keepalive ? { keepaliveIntervalMs: vars.rigger_ssh_keepalive * 1000 } : {}),
    ...(vars.rigger_ssh_keepalive_count ? { keepaliveCountMax: vars.rigger_ssh_keepalive_count } : {}),
  };
}

export function readSshConfig(file: string): SshConfig {
  return existsSync(file) ? parseSshConfig(readFileSync(file, "utf8")) : [];
}

/** A ProxyJump written in Ansible's extra ssh arguments. */
function jumpFromArgs(args: string | undefined): string[] | undefined {
  const match = args && (/(?:^|\s)-J\s*(\S+)/.exec(args) ?? /ProxyJump[= ]\s*(\S+)/i.exec(args));
  return match ? match[1]!.replace(/^['"]|['"]$/g, "").split(",") : undefined;
}

/**
 * Where and how to reach a host: the inventory's connection variables first, then what
 * ~/.ssh/config says about the alias (HostName, User, Port, IdentityFile, ProxyJump), then defaults.
 */
export function sshTarget(name: string, vars: ConnectionVars, config: SshConfig, common: Common): SshTarget {
  const alias = vars.ansible_host ?? name;
  const entry = sshConfigFor(config, alias);
  const hops = jumpFromArgs(vars.ansible_ssh_common_args) ?? entry.proxyJump;
  return {
    name,
    host: entry.hostName ?? alias,
    port: vars.ansible_port ?? entry.port ?? 22,
    user: vars.ansible_user ?? entry.user ?? userInfo().username,
    privateKeyFile: vars.ansible_ssh_private_key_file ?? entry.identityFile,
    jump: hops ? jumpChain(name, hops, vars, config, common) : undefined,
    ...common,
  };
}

/** The hops of a ProxyJump, each reached through the one before it; each hop's own ssh config applies. */
function jumpChain(name: string, hops: string[], vars: ConnectionVars, config: SshConfig, common: Common): SshTarget {
  let previous: SshTarget | undefined;
  for (const hop of hops) {
    const { user, host, port } = parseJump(hop);
    const entry = sshConfigFor(config, host);
    previous = {
      name: `${name} (via ${host})`,
      host: entry.hostName ?? host,
      port: port ?? entry.port ?? 22,
      user: user ?? entry.user ?? vars.ansible_user ?? userInfo().username,
      privateKeyFile: entry.identityFile ?? vars.ansible_ssh_private_key_file,
      jump: previous,
      ...common,
    };
  }
  return previous!;
}
