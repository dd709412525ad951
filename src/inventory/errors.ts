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
