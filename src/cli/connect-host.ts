import { SshConnection } from "../connection/ssh.js";
import type { SshConfig } from "../connection/ssh-config.js";
import { HostSession } from "../engine/host-session.js";
import type { Masker } from "../engine/masker.js";
import type { ConnectionVars } from "../inventory/connection-vars.js";
import type { CliOptions } from "./args.js";
import { linkSettings, sshTarget } from "./targets.js";

/** A host's session: its SSH connection (the alias resolved, hops and keepalives set), sudo when it becomes another user, its lock unless --check. */
export async function connect(
  host: string,
  vars: ConnectionVars,
  options: CliOptions,
  sshConfig: SshConfig,
  masker: Masker,
  warn: (message: string) => void,
): Promise<HostSession> {
  const common = {
    knownHostsFile: vars.rigger_known_hosts_file,
    acceptNewHostKeys: options.acceptNewHostKeys,
    ...linkSettings(vars, options.timeout),
  };
  const target = await sshTarget(host, vars, sshConfig, common);
  const connection = await SshConnection.open(target);
  const needsBecome = vars.ansible_become && vars.ansible_become_user !== target.user;
  const become = needsBecome ? { user: vars.ansible_become_user, password: vars.ansible_become_password } : undefined;
  const openAnother = () => SshConnection.open(target);
  return new HostSession({
    name: host,
    connection,
    become,
    takeLock: !options.check,
    openAnother,
    masker,
    breakLock: options.breakLock.includes(host),
    warn,
  });
}
