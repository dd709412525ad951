import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Document, isMap, isScalar, parseDocument, stringify, type YAMLMap } from "yaml";
import { withFileLock } from "../common/file-lock.js";
import { decrypt, encrypt, identities, identityFile, readRecipients } from "./age.js";
import { ConfigError } from "./errors.js";
import { AgeSealed, isMapping, isWorldReadable, readYaml } from "./yaml-file.js";

/**
 * The entry listing the secrets an operator asked to rotate (`rigger secrets rotate`): the next run
 * generates them anew instead of reading the live ones back from the hosts. Never a variable's name.
 */
const ROTATING = ".rotating";

const HEADER = [
  "# rigger's secrets store, encrypted with age for the recipients in secrets.recipients: safe to commit.",
  "# `rigger secrets list -i <inventory>` names what it holds; `rigger secrets --help` says the rest.",
].join("\n");

/**
 * The inventory's secrets store: `secrets.yaml` beside hosts.yaml. Encrypted with age for the
 * recipients listed in `secrets.recipients` (one per operator), it is safe to commit; a plaintext
 * store (no recipients yet) is still read, never readable by others. It holds what the operator put
 * there (read with `!secret NAME`) and the secrets rigger generated or adopted from the hosts
 * (under the variable's own name, reused on every later run).
 */
export class SecretsStore {
  readonly file: string;
  readonly recipientsFile: string;
  private values = new Map<string, unknown>();
  /** The ciphertext until unlock() has read it. */
  private sealed: string | undefined;
  /** The file held plaintext when it was read (to be encrypted once there are recipients). */
  plaintext = false;

  constructor(inventoryDir: string) {
    this.file = join(inventoryDir, "secrets.yaml");
    this.recipientsFile = join(inventoryDir, "secrets.recipients");
    this.read();
  }

  /** Whether the store was there when the run began: a run without one adopts what the hosts hold rather than generate. */
  get exists(): boolean {
    return existsSync(this.file);
  }

  get encrypted(): boolean {
    return this.sealed !== undefined || this.recipients().length > 0;
  }

  recipients(): string[] {
    return readRecipients(this.recipientsFile);
  }

  private read(): void {
    this.values = new Map();
    this.sealed = undefined;
    this.plaintext = false;
    if (!existsSync(this.file)) return;
    const data = readYaml(this.file) ?? {};
    if (data instanceof AgeSealed) return void (this.sealed = data.armored);
    this.plaintext = true;
    if (isWorldReadable(this.file))
      throw new ConfigError(
        this.file,
        "",
        "is readable by every user; chmod 600 it (or encrypt it: rigger secrets encrypt)",
      );
    if (!isMapping(data))
      throw new ConfigError(this.file, "", "expected a mapping of secret names to values, or an !age encrypted store");
    for (const [name, value] of Object.entries(data)) this.values.set(name, value);
  }

  /** Decrypts an encrypted store with the operator's identities; a plaintext store needs nothing. */
  async unlock(): Promise<void> {
    if (this.sealed === undefined) return;
    const keys = identities();
    const text = keys.length ? await decrypt(this.sealed, keys) : undefined;
    if (text === undefined)
      throw new ConfigError(
        this.file,
        "",
        `is encrypted for other recipients: no identity of yours opens it (RIGGER_AGE_IDENTITY, RIGGER_AGE_IDENTITY_FILE or ${identityFile()}); an operator listed in secrets.recipients adds yours with: rigger secrets add-recipient -i <inventory> age1...`,
      );
    const data = parseDocument(text).toJS() as unknown;
    if (!isMapping(data))
      throw new ConfigError(this.file, "", "decrypts to something other than a mapping of secret names to values");
    this.values = new Map(Object.entries(data));
    this.sealed = undefined;
  }

  private assertOpen(): void {
    if (this.sealed !== undefined) throw new Error(`${this.file} is still encrypted: unlock() it first`);
  }

  has(name: string): boolean {
    this.assertOpen();
    return name !== ROTATING && this.values.has(name);
  }

  get(name: string): unknown {
    this.assertOpen();
    return this.values.get(name);
  }

  names(): string[] {
    this.assertOpen();
    return [...this.values.keys()].filter((name) => name !== ROTATING);
  }

  /** The secrets dropped to be generated anew (rather than read back from the hosts). */
  rotating(): string[] {
    this.assertOpen();
    const listed = this.values.get(ROTATING);
    return Array.isArray(listed) ? listed.map(String) : [];
  }

  /** Drops a secret for the next run to generate anew, rather than read the live one back. */
  async rotate(name: string): Promise<void> {
    await this.update((values) => {
      values.delete(name);
      values.set(ROTATING, [...new Set([...this.rotating(), name])]);
    });
  }

  /** Every value, for the masker. */
  strings(): string[] {
    return [...this.values.values()].filter((v): v is string => typeof v === "string");
  }

  /** Holds values for this run without writing them (adopted from the hosts; written with the run's new ones). */
  remember(entries: Record<string, string>): void {
    for (const [name, value] of Object.entries(entries)) this.values.set(name, value);
  }

  /**
   * Adds new entries (a concurrent run may have stored one of these names meanwhile, with its own
   * value: then this run stops, since it rendered its own, rather than part its hosts). A name
   * being rotated has its new value now: its rotation is done.
   */
  async add(entries: Record<string, unknown>): Promise<void> {
    if (Object.keys(entries).length === 0) return;
    await this.update((values) => {
      for (const [name, value] of Object.entries(entries)) {
        const stored = values.get(name);
        if (stored !== undefined && stored !== value)
          throw new ConfigError(
            this.file,
            name,
            "was generated by another run at the same time; this run changed nothing: run again to use the stored one",
          );
        values.set(name, value);
      }
      const rotating = this.rotating().filter((name) => !(name in entries));
      if (rotating.length) values.set(ROTATING, rotating);
      else values.delete(ROTATING);
    });
  }

  /** Replaces or removes entries (an operator's explicit act: rotate, set, remove). */
  async replace(entries: Record<string, unknown | undefined>): Promise<void> {
    await this.update((values) => {
      for (const [name, value] of Object.entries(entries))
        value === undefined ? values.delete(name) : values.set(name, value);
    });
  }

  /** Writes the store again as it is: encrypted for the recipients listed now (after they changed, or to encrypt a plaintext store). */
  async rewrite(): Promise<void> {
    await this.update(() => undefined);
  }

  /** The plaintext file with the values as they are now, the operator's comments and order kept. */
  private plaintextDocument(): string {
    const document: Document = this.plaintext ? parseDocument(readFileSync(this.file, "utf8")) : new Document({});
    if (!isMap(document.contents)) document.contents = document.createNode({});
    for (const item of [...(document.contents as YAMLMap).items])
      if (!this.values.has(String(isScalar(item.key) ? item.key.value : item.key))) document.delete(item.key);
    for (const [name, value] of this.values) if (document.get(name) !== value) document.set(name, value);
    return document.toString();
  }

  /**
   * Changes the store under a lock on its file, from what the file holds now, and writes it back
   * atomically (0600): encrypted when there are recipients, else in plaintext.
   */
  private async update(change: (values: Map<string, unknown>) => void): Promise<void> {
    await withFileLock(this.file, async () => {
      this.read();
      await this.unlock();
      const wasSealed = !this.plaintext && this.exists;
      change(this.values);
      const recipients = this.recipients();
      // Never written back in plaintext once encrypted: a lost recipients file is the operator's to restore.
      if (wasSealed && !recipients.length)
        throw new ConfigError(
          this.recipientsFile,
          "",
          "is missing or lists nobody, and secrets.yaml is encrypted: restore it (or list yourself: rigger secrets encrypt -i <inventory>)",
        );
      const text = recipients.length
        ? `${HEADER}\n!age |\n${(await encrypt(stringify(Object.fromEntries(this.values)), recipients)).trimEnd().replace(/^/gm, "  ")}\n`
        : this.plaintextDocument();
      const temporary = `${this.file}.tmp-${process.pid}`;
      writeFileSync(temporary, text, { mode: 0o600 });
      renameSync(temporary, this.file);
    });
  }
}
