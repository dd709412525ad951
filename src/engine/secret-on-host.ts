import { parse } from "yaml";

/**
 * Where a role keeps a secret on its host, and how to read it back from that file: what a run
 * without its secrets store adopts rather than generate a new value over a live one.
 */
export interface SecretOnHost {
  path: string;
  /** The value in the file's content; undefined when the file does not hold this secret (not used there); throws when the file cannot be read as its role writes it. */
  pick(content: string): string | undefined;
}

const asString = (value: unknown) => (typeof value === "string" && value ? value : undefined);
const unreadable = (what: string): never => {
  throw new Error(`not ${what}`);
};

/** Readers for the forms the roles write secrets in. */
export const onHost = {
  /** The whole file, its final newline dropped. */
  file: (path: string): SecretOnHost => ({
    path,
    pick: (content) => asString(content.replace(/\n$/, "")) ?? unreadable("a value (empty)"),
  }),
  /** A value at a path of keys (and list indexes) in a YAML file. */
  yaml: (path: string, ...keys: Array<string | number>): SecretOnHost => ({
    path,
    pick: (content) => {
      let document: unknown;
      try {
        document = parse(content);
      } catch {
        unreadable("YAML");
      }
      return asString(
        keys.reduce<unknown>((node, key) => (node as Record<string | number, unknown> | undefined)?.[key], document),
      );
    },
  }),
  /** `option=value` or `option value` on a line of its own (turnserver.conf, redis.conf: a JSON-quoted value unquoted). */
  option: (path: string, option: string): SecretOnHost => ({
    path,
    pick: (content) => {
      const raw = new RegExp(`^${option}[= ](.+)$`, "m").exec(content)?.[1]?.trim();
      return raw?.startsWith('"') ? asString(JSON.parse(raw)) : asString(raw);
    },
  }),
  /** LiveKit's key file, `key: secret`: the key (0) or the secret (1). */
  keyFile: (path: string, part: 0 | 1): SecretOnHost => ({
    path,
    pick: (content) =>
      asString(/^([^:\s]+):\s*(\S+)\s*$/m.exec(content)?.[part + 1]) ?? unreadable("a key file (key: secret)"),
  }),
};
