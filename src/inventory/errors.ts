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

/** The first problem zod found, as error messages name it: the top-level key, the whole path, the message. */
export function firstIssue(error: { issues: Array<{ path: PropertyKey[]; message: string }> }): { key: string; path: string; message: string } {
  const issue = error.issues[0]!;
  return { key: String(issue.path[0]), path: issue.path.map(String).join("."), message: issue.message };
}

/** A piece of input named without its text, which may be a secret pasted in the wrong place. */
export const unshown = (what: string, text: string) => `${what} without "=" (${text.length} characters, not shown: it may be a secret)`;
