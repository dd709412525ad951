import { userInfo } from "node:os";
import { parseJump, type SshConfig, type SshConfigEntry } from "../connection/ssh-config.js";
import { readSshArgs } from "../connection/ssh-args.js";
import type { SshTarget } from "../connection/ssh-target.js";
import type { ConnectionVars } from "../inventory/connection-vars.js";

/** What every hop of a host's connection shares. */
type Common = Pick<
  SshTarget,
  "knownHostsFile" | "acceptNewHostKeys" | "connectTimeoutMs" | "keepaliveIntervalMs" | "keepaliveCountMax"
>;

/** The run's connect timeout and the host's keepalive settings, where set. */
export function linkSettings(
  vars: ConnectionVars,
  connectTimeoutSeconds: number | undefined,
): Pick<SshTarget, "connectTimeoutMs" | "keepaliveIntervalMs" | "keepaliveCountMax"> {
  return {
    ...(connectTimeoutSeconds ? { connectTimeoutMs: connectTimeoutSeconds * 1000 } : {}),
    ...(vars.rigger_ssh_keepalive ? { keepaliveIntervalMs: vars.rigger_ssh_keepalive * 1000 } : {}),
    ...(vars.rigger_ssh_keepalive_count ? { keepaliveCountMax: vars.rigger_ssh_keepalive_count } : {}),
  };
}

/**
 * Where and how to reach a host: the inventory's connection variables first, then what
 * OpenSSH's config says about the alias (HostName, User, Port, IdentityFile, ProxyJump), then defaults.
 */
export async function sshTarget(
  name: string,
  vars: ConnectionVars,
  config: SshConfig,
  common: Common,
): Promise<SshTarget> {
  const entry = await config.lookup(vars.ansible_host ?? name);
  const hops = readSshArgs(vars.ansible_ssh_common_args).proxyJump ?? entry.proxyJump;
  return {
    ...directTarget(name, vars, entry, common),
    jump: hops ? await jumpChain(name, hops, vars, config, common) : undefined,
  };
}

/** The host itself, as its variables and its config entry say (no jump). */
export function directTarget(name: string, vars: ConnectionVars, entry: SshConfigEntry, common: Common): SshTarget {
  const alias = vars.ansible_host ?? name;
  return {
    name,
    host: entry.hostName ?? alias,
    port: vars.ansible_port ?? entry.port ?? 22,
    user: vars.ansible_user ?? entry.user ?? userInfo().username,
    privateKeyFile: vars.ansible_ssh_private_key_file ?? entry.identityFile,
    ...common,
  };
}

/** The hops of a ProxyJump, each reached through the one before it; each hop's own ssh config applies. */
async function jumpChain(
  name: string,
  hops: string[],
  vars: ConnectionVars,
  config: SshConfig,
  common: Common,
): Promise<SshTarget> {
  let previous: SshTarget | undefined;
  for (const hop of hops) {
    const { user, host, port } = parseJump(hop);
    const entry = await config.lookup(host);
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
