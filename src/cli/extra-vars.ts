import { splitWords } from "../common/words.js";
import { ConfigError, unshown } from "../inventory/errors.js";
import { isMapping, readYaml } from "../inventory/yaml-file.js";

export interface ExtraVars {
  vars: Record<string, unknown>;
  /** The names given as key=value: strings, which a role's schema may read as a number or a boolean (see inventory/coerce.ts). */
  loose: Set<string>;
}

/**
 * `-e` as ansible-playbook reads it, later ones winning: `key=value` pairs (several in one, split
 * as a shell would, quotes kept together), a JSON object (`-e '{"k": 1}'`), or `@file` (YAML or JSON).
 */
export function parseExtraVars(items: string[]): ExtraVars {
  const vars: Record<string, unknown> = {};
  const loose = new Set<string>();
  const assign = (data: unknown, where: string) => {
    if (!isMapping(data)) throw new ConfigError(where, "", "expected a mapping of variables");
    for (const [key, value] of Object.entries(data)) {
      vars[key] = value;
      loose.delete(key);
    }
  };
  for (const item of items) {
    const text = item.trim();
    if (text.startsWith("@")) assign(readYaml(text.slice(1)), text.slice(1));
    else if (text.startsWith("{")) assign(parseJson(text), "-e");
    else
      for (const [i, pair] of pairs(text).entries()) {
        const eq = pair.indexOf("=");
        if (eq <= 0)
          throw new ConfigError(
            "-e",
            "",
            `expected key=value, a JSON object or @file.yaml; got ${unshown(`word ${i + 1}`, pair)}`,
          );
        vars[pair.slice(0, eq)] = pair.slice(eq + 1);
        loose.add(pair.slice(0, eq));
      }
  }
  return { vars, loose };
}

function pairs(text: string): string[] {
  try {
    return splitWords(text);
  } catch (error) {
    throw new ConfigError("-e", "", `${(error as Error).message} (the text is not shown: it may hold a secret)`);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    const at = Number(/at position (\d+)/.exec((error as Error).message)?.[1] ?? NaN);
    const where =
      at >= text.length || /end of JSON/.test((error as Error).message)
        ? ": it ends early"
        : at >= 0
          ? ` at character ${at + 1}`
          : "";
    throw new ConfigError("-e", "", `not valid JSON${where} (the text is not shown: it may hold a secret)`);
  }
}
