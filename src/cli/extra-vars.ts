import { splitWords } from "../common/words.js";
import { ConfigError } from "../inventory/errors.js";
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
      for (const pair of pairs(text)) {
        const eq = pair.indexOf("=");
        if (eq <= 0) throw new ConfigError("-e", pair, "expected key=value, a JSON object or @file.yaml");
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
    throw new ConfigError("-e", text, (error as Error).message);
  }
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new ConfigError("-e", text.slice(0, 40), `not valid JSON: ${(error as Error).message}`);
  }
}
