import { randomBytes, randomInt } from "node:crypto";

const ALPHANUMERIC = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

const pick = (length: number) => Array.from({ length }, () => ALPHANUMERIC[randomInt(ALPHANUMERIC.length)]).join("");

/** Generators for the secrets a role declares: strong, random, from the controller's CSPRNG. */
export const generate = {
  /** Letters and digits only: safe in any config syntax (YAML, INI, env files, URLs). */
  token:
    (length = 48) =>
    () =>
      pick(length),
  /** With a fixed prefix, as some services shape their key ids (LiveKit's `API...`). */
  prefixed: (prefix: string, length: number) => () => prefix + pick(length),
  /** A Synapse signing key: `ed25519 a_XXXX <unpadded base64 of a 32-byte seed>`. */
  ed25519SigningKey: () => () => `ed25519 a_${pick(4)} ${randomBytes(32).toString("base64").replace(/=+$/, "")}`,
};
