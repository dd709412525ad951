/**
 * Shell commands as values: every interpolated argument is quoted for a POSIX sh (dash included,
 * so no bash-only `$'...'`), and an array becomes several quoted words.
 *
 * The rule: an `sh` template never writes quotes around a value (`'${path}'`, `"${path}"`): sh
 * quotes it already, and a quoted value inside quotes breaks out of them (a space, a `'`, a
 * `$(...)`). Where a script needs a value inside quotes, it puts it in a variable first
 * (`tmp=${path}`, then `"$tmp"`). test/unit/common/shell-quoting-rule.test.ts holds every template
 * of src/ and roles/ to this.
 */
export function quote(word: string | number): string {
  const text = String(word);
  return /^[\w@%+=:,./-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** Inserted into a command as is, for operators, redirections and other trusted fragments. */
export class Raw {
  constructor(readonly text: string) {}
}

export const raw = (text: string) => new Raw(text);

type Interpolated = string | number | Raw | ReadonlyArray<string | number>;

export function sh(strings: TemplateStringsArray, ...values: Interpolated[]): string {
  // A tagged template's invalid escape (`\(`, `\1`) leaves its piece undefined: never run that.
  if (strings.some((piece) => piece === undefined))
    throw new Error(
      `an sh template has an invalid escape sequence; write a backslash as \\\\: ${strings.raw.join("${...}").slice(0, 80)}`,
    );
  return strings.reduce((command, piece, i) => {
    if (i === 0) return piece;
    const value = values[i - 1]!;
    const text =
      value instanceof Raw
        ? value.text
        : Array.isArray(value)
          ? value.map(quote).join(" ")
          : quote(value as string | number);
    return command + text + piece;
  }, "");
}
