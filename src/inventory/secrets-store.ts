import { existsSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Document, isMap, parseDocument } from "yaml";
import { ConfigError } from "./errors.js";
import { isMapping, isWorldReadable, readYaml } from "./yaml-file.js";

/**
 * The inventory's secrets store: `secrets.yaml` beside hosts.yaml, never readable by others. It
 * holds what the operator put there (read with `!secret NAME`) and the secrets rigger generated
 * once (kept under the variable's own name, reused on every later run; delete one to rotate it).
 */
export class SecretsStore {
  readonly file: string;
  private readonly values: Map<string, unknown>;

  constructor(inventoryDir: string) {
    this.file = join(inventoryDir, "secrets.yaml");
    this.values = new Map();
    if (!existsSync(this.file)) return;
    if (isWorldReadable(this.file)) throw new ConfigError(this.file, "", "is readable by every user; chmod 600 it");
    const data = readYaml(this.file) ?? {};
    if (!isMapping(data)) throw new ConfigError(this.file, "", "expected a mapping of secret names to values");
    for (const [name, value] of Object.entries(data)) this.values.set(name, value);
  }

  has(name: string): boolean {
    return this.values.has(name);
  }

  get(name: string): unknown {
    return this.values.get(name);
  }

  /** Every value, for the masker. */
  strings(): string[] {
    return [...this.values.values()].filter((v): v is string => typeof v === "string");
  }

  /** Adds new entries to the file (comments and order of the old ones kept), atomically and 0600. */
  add(entries: Record<string, string>): void {
    if (Object.keys(entries).length === 0) return;
    const document: Document = existsSync(this.file) ? parseDocument(readFileSync(this.file, "utf8")) : new Document({});
    if (!isMap(document.contents)) document.contents = document.createNode({});
    for (const [name, value] of Object.entries(entries)) {
      document.set(name, value);
      this.values.set(name, value);
    }
    const temporary = `${this.file}.tmp-${process.pid}`;
    writeFileSync(temporary, document.toString(), { mode: 0o600 });
    renameSync(temporary, this.file);
  }
}
