import { SECRET_MIN_LENGTH } from "../common/secret-length.js";
import { ConfigError } from "./errors.js";

/** Words that make a variable secret wherever they stand in its name (`synapse_signing_key`, `db_password`, `ansible_become_pass`). */
const SECRET_WORDS = new Set(["password", "passwd", "pass", "passphrase", "secret", "token", "key"]);
/** A last word that makes it a reference to a secret, not the secret (`ansible_ssh_private_key_file`). */
const REFERENCE_WORDS = new Set(["file", "path", "dir", "name"]);

export function isSecretName(name: string): boolean {
  const words = name.split(/[_\-.\s]+|(?<=[a-z0-9])(?=[A-Z])/).map((w) => w.toLowerCase());
  if (REFERENCE_WORDS.has(words.at(-1)!)) return false;
  return words.some((w) => SECRET_WORDS.has(w));
}

/** Every string held under a secret name, at any depth of mappings and lists, with its key path. */
export function secretEntries(value: unknown, path = "", secret = false): Array<{ path: string; value: string }> {
  if (typeof value === "string") return secret ? [{ path, value }] : [];
  const at = (key: string | number) => (path ? `${path}.${key}` : String(key));
  if (Array.isArray(value)) return value.flatMap((item, i) => secretEntries(item, at(i), secret));
  if (value !== null && typeof value === "object")
    return Object.entries(value).flatMap(([key, item]) => secretEntries(item, at(key), secret || isSecretName(key)));
  return [];
}

/** Every string held under a secret name, at any depth of mappings and lists. */
export const secretStrings = (value: unknown): string[] => secretEntries(value).map((entry) => entry.value);

/** Refuses a secret too short to be masked, naming the file that set it and its key path. */
export function refuseShortSecrets(vars: Record<string, unknown>, host: string, origin: (key: string) => string): void {
  for (const { path, value } of secretEntries(vars)) {
    if (value.length === 0 || value.length >= SECRET_MIN_LENGTH) continue;
    const key = path.split(".")[0]!;
    throw new ConfigError(
      origin(key),
      `${host}.${path}`,
      `a secret of ${value.length} character${value.length > 1 ? "s" : ""} cannot be masked in output: expected at least ${SECRET_MIN_LENGTH}`,
    );
  }
}
