/**
 * Replaces every known secret value with a mask. Every byte the CLI prints or writes (lines, the
 * listr2 tree, diffs, errors, the JSON report) goes through one of these.
 */
export const MASK = "********";

export class Masker {
  private readonly secrets = new Set<string>();

  add(value: unknown): void {
    // Very short values would mask ordinary words; the inventory refuses such secrets anyway.
    if (typeof value !== "string" || value.length < 4) return;
    this.secrets.add(value);
    // The form it takes inside a shell-quoted word, so that a quoted command is masked (and refused) too.
    this.secrets.add(value.replace(/'/g, `'\\''`));
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
    for (const secret of [...this.secrets].sort((a, b) => b.length - a.length)) masked = masked.split(secret).join(MASK);
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
