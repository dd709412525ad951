/** Words that make a variable secret wherever they stand in its name (`synapse_signing_key`, `db_password`). */
const SECRET_WORDS = new Set(["password", "passwd", "passphrase", "secret", "token", "key"]);
/** A last word that makes it a reference to a secret, not the secret (`ansible_ssh_private_key_file`). */
const REFERENCE_WORDS = new Set(["file", "path", "dir", "name"]);

export function isSecretName(name: string): boolean {
  const words = name.split(/[_\-.\s]+|(?<=[a-z0-9])(?=[A-Z])/).map((w) => w.toLowerCase());
  if (REFERENCE_WORDS.has(words.at(-1)!)) return false;
  return words.some((w) => SECRET_WORDS.has(w));
}

/** Every string held under a secret name, at any depth of mappings and lists. */
export function secretStrings(value: unknown, secret = false): string[] {
  if (typeof value === "string") return secret ? [value] : [];
  if (Array.isArray(value)) return value.flatMap((item) => secretStrings(item, secret));
  if (value !== null && typeof value === "object")
    return Object.entries(value).flatMap(([key, item]) => secretStrings(item, secret || isSecretName(key)));
  return [];
}
