import { ConfigError } from "../inventory/errors.js";
import { isMapping, readYaml } from "../inventory/yaml-file.js";

/** `-e key=value` (a string, as in Ansible) and `-e @file.yaml` (a mapping), later ones winning. */
export function parseExtraVars(items: string[]): Record<string, unknown> {
  const vars: Record<string, unknown> = {};
  for (const item of items) {
    if (item.startsWith("@")) {
      const file = item.slice(1);
      const data = readYaml(file);
      if (!isMapping(data)) throw new ConfigError(file, "", "expected a mapping of variables (from -e @file)");
      Object.assign(vars, data);
      continue;
    }
    const eq = item.indexOf("=");
    if (eq <= 0) throw new ConfigError("-e", item, "expected key=value or @file.yaml");
    vars[item.slice(0, eq)] = item.slice(eq + 1);
  }
  return vars;
}
