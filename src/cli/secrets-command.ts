import { appendFileSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import { ConfigError } from "../inventory/errors.js";
import { ensureIdentity, identityFile } from "../inventory/age.js";
import { openSecretsStore } from "../inventory/load.js";
import { listOwnIdentity } from "../inventory/secrets-keeping.js";
import type { SecretsStore } from "../inventory/secrets-store.js";

export const SECRETS_USAGE = `usage: rigger secrets <command> -i <inventory> [NAME | RECIPIENT]

The secrets store is secrets.yaml beside the inventory's hosts file, encrypted with age for the
recipients in secrets.recipients (one age1... per operator); your identity is RIGGER_AGE_IDENTITY,
RIGGER_AGE_IDENTITY_FILE or ~/.config/rigger/age-identity.txt.

  recipient                 print your own recipient (age1...), your identity made if you have none
  list                      the names it holds (never the values)
  show NAME                 print one value
  set NAME                  store a value read from stdin (never from the command line)
  rotate NAME               drop NAME: the next run generates a new one and rolls it out
  encrypt                   encrypt a plaintext store (your identity made and listed if none is)
  add-recipient age1...     let another operator read it (re-encrypted at once)
  remove-recipient age1...  stop encrypting for one (rotate what they have seen: git keeps old copies)
  reencrypt                 write it again for the recipients listed now (after editing secrets.recipients)`;

type Command = (store: SecretsStore, arg: string | undefined, out: (line: string) => void) => Promise<void>;

const needs = (what: string, arg: string | undefined): string => {
  if (!arg) throw new ConfigError("rigger secrets", what, `expected ${what}`);
  return arg;
};

const recipientLines = (store: SecretsStore) =>
  existsSync(store.recipientsFile) ? readFileSync(store.recipientsFile, "utf8") : "";

/** Your own recipient, for the operator who adds you (needs no inventory). */
async function printRecipient(out: (line: string) => void): Promise<void> {
  const { recipient, created } = await ensureIdentity();
  if (created) out(`# created your age identity ${identityFile()} (0600): back it up`);
  out(recipient);
}

const COMMANDS: Record<string, Command> = {
  list: async (store, _arg, out) =>
    store
      .names()
      .sort()
      .forEach((name) => out(name)),
  show: async (store, arg, out) => {
    const name = needs("NAME", arg);
    if (!store.has(name))
      throw new ConfigError(store.file, name, "is not in the store (rigger secrets list names what is)");
    const value = store.get(name);
    out(typeof value === "string" ? value : JSON.stringify(value));
  },
  set: async (store, arg, out) => {
    const name = needs("NAME", arg);
    const value = readFileSync(0, "utf8").replace(/\r?\n$/, "");
    if (!value)
      throw new ConfigError("stdin", name, "expected the value on stdin (e.g. rigger secrets set NAME < file)");
    await store.replace({ [name]: value });
    out(`${name} stored`);
  },
  rotate: async (store, arg, out) => {
    const name = needs("NAME", arg);
    if (!store.has(name))
      throw new ConfigError(store.file, name, "is not in the store (rigger secrets list names what is)");
    await store.rotate(name);
    out(`${name} dropped: the next run generates a new one and restarts what uses it`);
  },
  encrypt: async (store, _arg, out) => {
    if (!store.recipients().length) (await listOwnIdentity(store)).forEach((line) => out(line));
    await store.rewrite();
    out(`${store.file} encrypted for ${store.recipients().length} recipient(s)`);
  },
  "add-recipient": async (store, arg, out) => {
    const recipient = needs("RECIPIENT", arg);
    if (!/^age1[0-9a-z]+$/.test(recipient))
      throw new ConfigError("rigger secrets add-recipient", recipient, "expected an age recipient (age1...)");
    if (!store.recipients().includes(recipient)) appendFileSync(store.recipientsFile, `${recipient}\n`);
    await store.rewrite();
    out(`${store.file} encrypted for ${store.recipients().length} recipient(s), ${recipient} among them`);
  },
  "remove-recipient": async (store, arg, out) => {
    const recipient = needs("RECIPIENT", arg);
    const kept = recipientLines(store)
      .split("\n")
      .filter((line) => line.replace(/#.*/, "").trim() !== recipient);
    if (!kept.some((line) => /^\s*age1/.test(line)))
      throw new ConfigError(store.recipientsFile, recipient, "is the last recipient: nobody could read the store");
    writeFileSync(store.recipientsFile, kept.join("\n"));
    await store.rewrite();
    out(
      `${recipient} removed; what it could read before stays in old copies: rotate those secrets (rigger secrets rotate NAME)`,
    );
  },
  reencrypt: async (store, _arg, out) => {
    await store.rewrite();
    out(`${store.file} encrypted for ${store.recipients().length} recipient(s)`);
  },
};

/** `rigger secrets ...`: the store's own commands; values are printed only by `show`. */
export async function secretsCommand(argv: string[], out: (line: string) => void): Promise<void> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { inventory: { type: "string", short: "i", multiple: true }, help: { type: "boolean", short: "h" } },
  });
  const [name, arg, extra] = positionals;
  if (values.help || !name) return out(SECRETS_USAGE);
  if (name === "recipient") return printRecipient(out);
  const command = COMMANDS[name];
  if (!command)
    throw new ConfigError("rigger secrets", name, `no such command (recipient, ${Object.keys(COMMANDS).join(", ")})`);
  if (extra !== undefined) throw new ConfigError("rigger secrets", extra, "one argument at most");
  if (!values.inventory?.length) throw new ConfigError("rigger secrets", "-i", "an inventory is required (-i PATH)");
  await command(await openSecretsStore(values.inventory), arg, out);
}
