import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import ssh2, { type AgentAuthMethod, type PublicKeyAuthMethod } from "ssh2";

type AuthMethod = AgentAuthMethod | PublicKeyAuthMethod;

/** The identity files OpenSSH tries when none is configured, in its order. */
const DEFAULT_IDENTITIES = ["id_ed25519", "id_ecdsa", "id_rsa"];

/**
 * How to log in, as OpenSSH would: the configured key file alone (or, when it is passphrase-protected,
 * the ssh-agent that holds it once `ssh-add` was given the passphrase); with none, the ssh-agent
 * (SSH_AUTH_SOCK) and then each default identity file that exists and needs no passphrase.
 */
export async function authMethods(user: string, privateKeyFile: string | undefined): Promise<AuthMethod[]> {
  const agent = process.env.SSH_AUTH_SOCK;
  if (privateKeyFile) {
    const key = await readFile(privateKeyFile);
    if (!(ssh2.utils.parseKey(key) instanceof Error)) return [{ type: "publickey", username: user, key }];
    if (agent) return [{ type: "agent", username: user, agent }];
    throw new Error(
      `${privateKeyFile} is passphrase-protected (or not a key that can be read): add it to your ssh-agent (ssh-add ${privateKeyFile}), which rigger then uses`,
    );
  }
  const methods: AuthMethod[] = agent ? [{ type: "agent", username: user, agent }] : [];
  for (const name of DEFAULT_IDENTITIES) {
    const key = await readFile(join(homedir(), ".ssh", name)).catch(() => undefined);
    if (key && !(ssh2.utils.parseKey(key) instanceof Error)) methods.push({ type: "publickey", username: user, key });
  }
  return methods;
}

/** Every host key algorithm ssh2 offers, strongest first. */
const HOST_KEY_ALGORITHMS = [
  "ssh-ed25519",
  "ecdsa-sha2-nistp256",
  "ecdsa-sha2-nistp384",
  "ecdsa-sha2-nistp521",
  "rsa-sha2-512",
  "rsa-sha2-256",
  "ssh-rsa",
];

/**
 * The host key algorithms to offer: first those of the keys known_hosts holds for the host (an
 * RSA key signs with rsa-sha2-*), then the rest, so a host known by one key type is asked for it.
 */
export function hostKeyAlgorithms(knownKeyTypes: string[]): string[] {
  const preferred = knownKeyTypes.flatMap((type) =>
    type === "ssh-rsa" ? ["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"] : [type],
  );
  return [...new Set([...preferred.filter((a) => HOST_KEY_ALGORITHMS.includes(a)), ...HOST_KEY_ALGORITHMS])];
}
