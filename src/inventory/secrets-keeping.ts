import { existsSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { ensureIdentity, identityFile } from "./age.js";
import type { SecretsStore } from "./secrets-store.js";

/**
 * Keeps a run's new secrets in the store before any host sees them. A new store is encrypted from
 * the start: with no recipients listed yet, the operator's age identity (made now if there is none)
 * becomes the first. Returns what the operator should be told.
 */
export async function keepSecrets(store: SecretsStore, entries: Record<string, string>): Promise<string[]> {
  if (Object.keys(entries).length === 0) return store.plaintext ? [plaintextWarning(store)] : [];
  const notes: string[] = [];
  if (!store.exists && !existsSync(store.recipientsFile)) notes.push(...(await listOwnIdentity(store)));
  await store.add(entries);
  return store.plaintext && !store.encrypted ? [...notes, plaintextWarning(store)] : notes;
}

const plaintextWarning = (store: SecretsStore) =>
  `${store.file} holds its secrets in plaintext (never commit it): encrypt it with \`rigger secrets encrypt -i ${dirname(store.file)}\``;

/** Writes the recipients file with the operator's own recipient, the identity made first when there is none. */
export async function listOwnIdentity(store: SecretsStore): Promise<string[]> {
  const { recipient, created } = await ensureIdentity();
  writeFileSync(
    store.recipientsFile,
    `# Who can read secrets.yaml: one age recipient per operator (rigger secrets add-recipient adds one).\n${recipient}\n`,
    { mode: 0o644, flag: "wx" },
  );
  return [
    ...(created
      ? [`created your age identity ${identityFile()} (0600): back it up, without it secrets.yaml cannot be read`]
      : []),
    `${store.recipientsFile} lists ${recipient}: secrets.yaml is encrypted for it`,
  ];
}
