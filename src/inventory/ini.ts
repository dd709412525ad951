/**
 * Ansible's INI inventory format, read into the shape of a YAML inventory (groups with hosts, vars
 * and children) so one loader serves both: `[group]` sections of host lines (`name key=value ...`,
 * ranges like `web[01:03]`), `[group:vars]`, `[group:children]`, hosts before any section in
 * `ungrouped`. Values as Ansible reads them (Python literals): `3` a number, `True` a boolean,
 * `'x y'` a string without its quotes; anything else the string as written (`false` included).
 */
import { splitWords } from "../common/words.js";
import { ConfigError, unshown } from "./errors.js";

type Section = {
  hosts?: Record<string, Record<string, unknown> | null>;
  vars?: Record<string, unknown>;
  children?: Record<string, null>;
};

export function parseIniInventory(text: string, file: string): Record<string, Section> {
  const groups: Record<string, Section> = {};
  const section = (name: string) => (groups[name] ??= {});
  let current: { group: string; kind: "hosts" | "vars" | "children" } = { group: "ungrouped", kind: "hosts" };
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    const at = `line ${index + 1}`;
    if (!line || line.startsWith("#") || line.startsWith(";")) return;
    const header = /^\[([^\]:\s]+)(?::(vars|children))?\]$/.exec(line);
    if (header) {
      current = { group: header[1]!, kind: (header[2] as "vars" | "children" | undefined) ?? "hosts" };
      section(current.group);
      return;
    }
    if (line.startsWith("["))
      throw new ConfigError(
        file,
        at,
        `not a section header: ${line} (expected [group], [group:vars] or [group:children])`,
      );
    const target = section(current.group);
    if (current.kind === "children") {
      (target.children ??= {})[line] = null;
      return;
    }
    if (current.kind === "vars") {
      const [key, value] = pair(line, file, at);
      (target.vars ??= {})[key] = value;
      return;
    }
    const [host, ...rest] = words(line, file, at);
    const vars = Object.fromEntries(rest.map((word) => pair(word, file, `${at}, host ${host}`)));
    (target.hosts ??= {})[host!] = rest.length ? vars : null;
  });
  return groups;
}

/** A host line's words, a quoted value kept whole with its quotes; a word starting with # ends the line. */
function words(line: string, file: string, at: string): string[] {
  try {
    return splitWords(line, { keepQuotes: true, comment: "#" });
  } catch (error) {
    throw new ConfigError(file, at, (error as Error).message);
  }
}

function pair(text: string, file: string, at: string): [string, unknown] {
  const eq = text.indexOf("=");
  if (eq <= 0) throw new ConfigError(file, at, `expected key=value, got ${unshown("a word", text)}`);
  return [text.slice(0, eq).trim(), iniValue(text.slice(eq + 1).trim())];
}

/** A value as Python's literal_eval reads it, which is what Ansible does; the text itself when it is no literal. */
export function iniValue(text: string): unknown {
  const quoted = /^(['"])(.*)\1$/.exec(text);
  if (quoted) return quoted[2];
  if (/^[-+]?\d+$/.test(text)) return Number(text);
  if (/^[-+]?(\d+\.\d*|\.\d+|\d+(\.\d*)?[eE][-+]?\d+)$/.test(text)) return Number(text);
  if (text === "True" || text === "False") return text === "True";
  if (text === "None") return null;
  if (/^[[{]/.test(text))
    try {
      return JSON.parse(
        text
          .replace(/'/g, '"')
          .replace(/\bTrue\b/g, "true")
          .replace(/\bFalse\b/g, "false")
          .replace(/\bNone\b/g, "null"),
      );
    } catch {
      // not a literal Ansible could read either: the text
    }
  return text;
}
