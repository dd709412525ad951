/** A configuration error, found before any host is touched: names the file, the key and what was expected. */
export class ConfigError extends Error {
  constructor(
    readonly file: string,
    readonly keyPath: string,
    readonly expected: string,
  ) {
    super(`${file}: ${keyPath ? `${keyPath}: ` : ""}${expected}`);
    this.name = "ConfigError";
  }
}

/** Several problems as one error: one alone reads as any ConfigError; more are counted, a line each. */
export function configErrors(
  problems: Array<{ file: string; keyPath: string; expected: string }>,
  what: string,
): ConfigError {
  const [first] = problems;
  const error = new ConfigError(first!.file, first!.keyPath, first!.expected);
  if (problems.length > 1)
    error.message = `${problems.length} ${what}:\n${problems.map((p) => `  ${p.file}: ${p.keyPath}: ${p.expected}`).join("\n")}`;
  return error;
}

/** A piece of input named without its text, which may be a secret pasted in the wrong place. */
export const unshown = (what: string, text: string) =>
  `${what} without "=" (${text.length} characters, not shown: it may be a secret)`;
