import { ConfigError } from "./errors.js";

/**
 * Expands an inventory host name with ranges, as Ansible does: `sfu[01:03]` gives sfu01..sfu03
 * (the width of the start is kept), `[a:c]` letters, `[0:10:5]` a stride.
 */
export function expandHostRange(name: string, file: string, keyPath: string): string[] {
  const match = /^(.*?)\[([^\]:]+):([^\]:]+)(?::(\d+))?\](.*)$/.exec(name);
  if (!match) return [name];
  const [, prefix = "", start = "", end = "", stride = "1", suffix = ""] = match;
  const step = Number(stride);
  const values: string[] = [];
  if (/^\d+$/.test(start) && /^\d+$/.test(end)) {
    const width = start.length;
    for (let i = Number(start); i <= Number(end) && step > 0; i += step) values.push(String(i).padStart(width, "0"));
  } else if (/^[a-z]$/i.test(start) && /^[a-z]$/i.test(end)) {
    for (let c = start.charCodeAt(0); c <= end.charCodeAt(0) && step > 0; c += step)
      values.push(String.fromCharCode(c));
  }
  if (values.length === 0)
    throw new ConfigError(
      file,
      keyPath,
      `the host range "${name}" is empty or malformed (expected e.g. sfu[01:03] or node[a:c])`,
    );
  return values.flatMap((v) => expandHostRange(prefix + v + suffix, file, keyPath));
}
