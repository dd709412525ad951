/**
 * Replaces every known secret value with a mask. Every byte the CLI prints or writes (lines, the
 * listr2 tree, diffs, errors, the JSON report) goes through one of these.
 */
import { SECRET_MIN_LENGTH } from "../common/secret-length.js";

export const MASK = "********";

export class Masker {
  private readonly secrets = new Set<string>();

  add(value: unknown): void {
    // Very short values would mask ordinary words; a run refuses such secrets before it starts (refuseShortSecrets).
    if (typeof value !== "string" || value.length < SECRET_MIN_LENGTH) return;
    this.secrets.add(value);
    // The forms it takes once escaped, so that a quoted command, a JSON document or a YAML
    // double-quoted scalar that holds it is masked (and a command refused) too: shell single
    // quotes, shell double quotes, JSON's (and YAML's) backslash escapes.
    this.secrets.add(value.replace(/'/g, `'\\''`));
    this.secrets.add(value.replace(/[\\"$`]/g, "\\$&"));
    this.secrets.add(JSON.stringify(value).slice(1, -1));
    // A secret over several lines shows line by line in a diff: each line is masked on its own.
    for (const line of value.split("\n")) if (line !== value && line.trim().length >= 4) this.secrets.add(line);
  }

  /** Whether the text holds a secret (a command that does must not be run: argv is visible on the host). */
  holdsSecret(text: string): boolean {
    for (const secret of this.secrets) if (text.includes(secret)) return true;
    return false;
  }

  mask(text: string): string {
    let masked = text;
    for (const secret of [...this.secrets].sort((a, b) => b.length - a.length))
      masked = masked.split(secret).join(MASK);
    return masked;
  }

  /** A deep copy of a value (for the JSON report) with every string masked. */
  maskDeep<T>(value: T): T {
    if (typeof value === "string") return this.mask(value) as T;
    if (Array.isArray(value)) return value.map((item) => this.maskDeep(item)) as T;
    if (value !== null && typeof value === "object")
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, this.maskDeep(v)])) as T;
    return value;
  }
}
