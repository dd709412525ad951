/**
 * Secrets at rest with age (age-encryption.org): each value of the secrets store is encrypted for
 * the inventory's recipients (`secrets.recipients`, one `age1...` per line, one per operator) and
 * decrypted with the operator's own identity. The library is loaded only when a store needs it.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join } from "node:path";
import { importModule } from "../common/importer.js";
import { ConfigError } from "./errors.js";

const library = () => importModule("age-encryption") as Promise<typeof import("age-encryption")>;

/** Where the operator's identity is: RIGGER_AGE_IDENTITY (the key itself), RIGGER_AGE_IDENTITY_FILE, or ~/.config/rigger/age-identity.txt. */
export function identityFile(): string {
  return process.env.RIGGER_AGE_IDENTITY_FILE || join(homedir(), ".config", "rigger", "age-identity.txt");
}

/** The operator's identities (AGE-SECRET-KEY-1... lines, as age's identity files hold them); none when there are none. */
export function identities(): string[] {
  const text =
    process.env.RIGGER_AGE_IDENTITY ?? (existsSync(identityFile()) ? readFileSync(identityFile(), "utf8") : "");
  return text
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.startsWith("AGE-SECRET-KEY-"));
}

/** The recipients file's `age1...` entries (comments and blank lines skipped); refuses anything else, naming the line. */
export function readRecipients(file: string): string[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, "utf8")
    .split("\n")
    .map((line, index) => ({ entry: line.replace(/#.*/, "").trim(), line: index + 1 }))
    .filter(({ entry }) => entry)
    .map(({ entry, line }) => {
      if (!/^age1[0-9a-z]+$/.test(entry))
        throw new ConfigError(file, `line ${line}`, `expected an age recipient (age1...), got "${entry.slice(0, 20)}"`);
      return entry;
    });
}

/** A new X25519 identity in the identity file (0600), unless one is there; returns its recipient and whether it was made now. */
export async function ensureIdentity(): Promise<{ recipient: string; created: boolean }> {
  const age = await library();
  const existing = identities()[0];
  if (existing) return { recipient: await age.identityToRecipient(existing), created: false };
  const identity = await age.generateX25519Identity();
  const recipient = await age.identityToRecipient(identity);
  mkdirSync(dirname(identityFile()), { recursive: true, mode: 0o700 });
  writeFileSync(
    identityFile(),
    `# rigger's age identity: it decrypts the secrets stores that list ${recipient}. Back it up; never commit it.\n${identity}\n`,
    { mode: 0o600, flag: "wx" },
  );
  return { recipient, created: true };
}

export async function encrypt(text: string, recipients: string[]): Promise<string> {
  const age = await library();
  const encrypter = new age.Encrypter();
  recipients.forEach((r) => encrypter.addRecipient(r));
  return age.armor.encode(await encrypter.encrypt(text));
}

/** Decrypts with every identity given; undefined when none of them is a recipient of the value. */
export async function decrypt(armored: string, keys: string[]): Promise<string | undefined> {
  const age = await library();
  const decrypter = new age.Decrypter();
  keys.forEach((k) => decrypter.addIdentity(k));
  try {
    return await decrypter.decrypt(age.armor.decode(armored), "text");
  } catch (error) {
    if (/no identity matched/i.test((error as Error).message)) return undefined;
    throw error;
  }
}
