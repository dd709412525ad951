import { defineFact } from "./fact.js";

/**
 * The port sshd serves this run on, as the host sees it: the server port of $SSH_CONNECTION (a host
 * reached through NAT or a port-forward is reached on another port on the controller's side), else
 * the first port sshd is configured to listen on, else 22. A shell expression, for facts and checks.
 */
export const SSH_SERVED_PORT_SHELL = `$(p=\${SSH_CONNECTION##* }; [ -n "$p" ] || p=$(sshd -T 2>/dev/null | sed -n 's/^port //p' | head -n 1); echo "\${p:-22}")`;

export const sshServedPortFact = defineFact("ssh-served-port", `echo ${SSH_SERVED_PORT_SHELL}`, (stdout) => {
  const port = Number(stdout.trim());
  if (!Number.isInteger(port) || port < 1 || port > 65535)
    throw new Error(`could not tell which port sshd serves this run on (read "${stdout.trim()}")`);
  return port;
});
