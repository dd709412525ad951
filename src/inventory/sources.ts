/** What `-i` names, as Ansible reads it: a host list, a hosts file (YAML or INI), or a folder of them with its group_vars/ and host_vars/. */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { ConfigError } from "./errors.js";
import { parseIniInventory } from "./ini.js";
import { isMapping, readYaml } from "./yaml-file.js";

/** The keys of a group in YAML inventory shape. */
export const GROUP_KEYS = ["hosts", "vars", "children"];

function partition<T>(items: T[], test: (item: T) => boolean): [T[], T[]] {
  return [items.filter(test), items.filter((item) => !test(item))];
}

/** A file of an inventory folder that may hold something else: read if it is an inventory, else skipped and said. */
export function optionalSource(source: InventorySource, warnings: string[]): Record<string, unknown> | undefined {
  try {
    const groups = source.groups();
    // A vars file's top keys are variables: their values are no groups (a group holds hosts, vars or children).
    for (const [name, entry] of Object.entries(groups))
      if (entry !== null && (!isMapping(entry) || Object.keys(entry).some((key) => !GROUP_KEYS.includes(key))))
        throw new ConfigError(source.name, name, "not a group");
    return groups;
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    warnings.push(`${source.name}: not an inventory, so it is not read (${error.expected})`);
    return undefined;
  }
}

export interface InventorySource {
  /** What errors name: the hosts file, or the host list as given. */
  name: string;
  /** The groups in YAML inventory shape. */
  groups(): Record<string, unknown>;
  /** A file of a folder that holds more than hosts: one that is no inventory is skipped, with a warning (as Ansible does). */
  optional?: boolean;
}

/** One `-i`: its sources in the order Ansible reads them, and the folder whose group_vars/ and host_vars/ apply. */
export interface InventoryInput {
  sources: InventorySource[];
  varsDir?: string;
}

/** The files an inventory folder names its hosts in by convention: one that does not parse is an error, not a skip. */
const HOSTS_FILES = new Set(["hosts.yaml", "hosts.yml", "hosts", "hosts.ini"]);
/**
 * What Ansible leaves out of an inventory folder: hidden files, the vars folders, and its ignored
 * extensions (INVENTORY_IGNORE_EXTS: REJECT_EXTS and .orig, .cfg, .retry); and rigger's secrets store with its lock.
 */
/** What the YAML and INI inventory plugins read: a script or a playbook beside the hosts is never taken for host lines. */
const INVENTORY_FILE = /^[^.]+$|\.(yaml|yml|json|ini)$/;
const IGNORED_NAMES =
  /^(\.|(host_vars|group_vars|vars_plugins)$|secrets\.(yaml|recipients)(\..*)?$)|(\.pyc|\.pyo|\.swp|\.bak|~|\.rpm|\.md|\.txt|\.rst|\.orig|\.cfg|\.retry)$/;

/**
 * `-i` as Ansible reads it: a comma-separated host list (`host1,host2,`), a hosts file (YAML or
 * INI), or a folder, every file in it (and in its subfolders) in name order.
 */
export function inventoryInput(path: string, warnings: string[] = []): InventoryInput {
  if (!existsSync(path) && path.includes(",")) {
    const hosts = path
      .split(",")
      .map((h) => h.trim())
      .filter(Boolean);
    return {
      sources: [
        { name: path, groups: () => ({ ungrouped: { hosts: Object.fromEntries(hosts.map((h) => [h, null])) } }) },
      ],
    };
  }
  if (!existsSync(path))
    throw new ConfigError(
      path,
      "",
      "no such inventory (expected a hosts file (YAML or INI), a folder of them, or a host list such as host1,host2,)",
    );
  if (!statSync(path).isDirectory())
    return { sources: [{ name: path, groups: () => readHostsFile(path) }], varsDir: dirname(path) };
  const files = (dir: string): string[] =>
    readdirSync(dir)
      .sort()
      .filter((entry) => !IGNORED_NAMES.test(entry))
      .flatMap((entry) => (statSync(join(dir, entry)).isDirectory() ? files(join(dir, entry)) : [join(dir, entry)]));
  const [inventories, others] = partition(files(path), (file) => INVENTORY_FILE.test(basename(file)));
  if (others.length)
    warnings.push(
      `${others.join(", ")}: not read (an inventory folder's files are YAML: .yaml, .yml, .json; or INI: .ini or no extension)`,
    );
  const sources = inventories.map((file) => ({
    name: file,
    groups: () => readHostsFile(file),
    optional: !HOSTS_FILES.has(basename(file)),
  }));
  if (!sources.length)
    throw new ConfigError(path, "", "the inventory folder holds no hosts file (such as hosts.yaml or hosts.ini)");
  return { sources, varsDir: path };
}

/** A hosts file in YAML, or else in Ansible's INI format (as Ansible tries its inventory plugins in turn). */
function readHostsFile(file: string): Record<string, unknown> {
  const text = readFileSync(file, "utf8");
  if (file.endsWith(".ini") || /^\s*\[[^\]\s]+\]\s*$/m.test(text)) return parseIniInventory(text, file);
  let yamlError: unknown;
  try {
    const top = readYaml(file);
    if (isMapping(top)) return top;
  } catch (error) {
    yamlError = error;
  }
  // Not a mapping of groups: a list of host lines, as INI has them before any section.
  try {
    return parseIniInventory(text, file);
  } catch {
    throw (
      yamlError ??
      new ConfigError(
        file,
        "",
        "expected a mapping of groups at the top (usually `all:`), or an INI inventory ([group] sections of host lines)",
      )
    );
  }
}
