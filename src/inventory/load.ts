import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { ConfigError } from "./errors.js";
import { expandHostRange } from "./host-patterns.js";
import { GROUP_KEYS, inventoryInput, optionalSource } from "./sources.js";
import { likelyMeant } from "./near-miss.js";
import { SecretsStore } from "./secrets-store.js";
import { AgeSealed, EnvReference, SecretReference, isMapping, readYaml } from "./yaml-file.js";

export type Vars = Record<string, unknown>;

export interface Group {
  name: string;
  hosts: Set<string>;
  children: Set<string>;
  parents: Set<string>;
  vars: Vars;
}

export interface InventoryHost {
  name: string;
  /** Every group the host belongs to, directly or through children, `all` first, deeper groups later. */
  groups: string[];
  /** Group and host variables merged by precedence. */
  vars: Vars;
  /** Where each variable's winning value was written, for error messages. */
  origins: Record<string, string>;
}

export interface Inventory {
  source: string;
  groups: Map<string, Group>;
  hosts: Map<string, InventoryHost>;
  /** Values from the secrets store and other secret variables: never printed. */
  secretValues: string[];
  /** The secrets store beside hosts.yaml, where generated secrets are kept. */
  secrets: SecretsStore;
  /** What was read differently from what it may look like (a file that is no inventory, a host_vars name a letter off). */
  warnings: string[];
}

const YAML_EXTENSIONS = [".yaml", ".yml"];

/**
 * Reads Ansible-style inventories, each a hosts file (YAML or INI), a folder holding one, or a list
 * of hosts (`host1,host2,`), merged in the order given as ansible-playbook merges several `-i`: a
 * later source adds hosts and groups and its variables win. Each source's group_vars/ and
 * host_vars/ are read; the secrets store is the first folder's (the current one for host lists only).
 */
export function loadInventory(paths: string | string[], secrets = new SecretsStore(storeDirOf(paths))): Inventory {
  const warnings: string[] = [];
  const inputs = (Array.isArray(paths) ? paths : [paths]).map((path) => inventoryInput(path, warnings));
  const envValues: string[] = [];
  const resolve = (value: unknown, file: string, keyPath: string) =>
    resolveReferences(value, file, keyPath, secrets, envValues);

  const groups = new Map<string, Group>();
  const hostVars = new Map<string, Array<{ vars: Vars; file: string }>>();
  const groupVarFiles = new Map<string, Array<{ vars: Vars; file: string }>>();
  const hostVarFiles = new Map<string, Array<{ vars: Vars; file: string }>>();
  const group = (name: string): Group => {
    let g = groups.get(name);
    if (!g) groups.set(name, (g = { name, hosts: new Set(), children: new Set(), parents: new Set(), vars: {} }));
    return g;
  };
  let hostsFile = "";
  /** Where each group's variables were last written, for error messages. */
  const groupOrigin = new Map<string, string>();

  const readGroup = (name: string, entry: unknown, keyPath: string) => {
    const g = group(name);
    if (entry === null || entry === undefined) return;
    if (!isMapping(entry)) throw new ConfigError(hostsFile, keyPath, "expected a mapping with hosts, vars or children");
    for (const key of Object.keys(entry)) {
      if (!GROUP_KEYS.includes(key)) {
        const hint = likelyMeant(key, GROUP_KEYS);
        throw new ConfigError(
          hostsFile,
          `${keyPath}.${key}`,
          `unknown key; a group has ${GROUP_KEYS.join(", ")}${hint ? ` (did you mean "${hint}"?)` : ""}`,
        );
      }
    }
    // In the file's order, so hosts keep the order the operator wrote them in.
    for (const [key, value] of Object.entries(entry)) {
      if (value === undefined || value === null) continue;
      if (key === "vars") readVars(g, value, `${keyPath}.vars`);
      if (key === "hosts") readHosts(g, value, `${keyPath}.hosts`);
      if (key === "children") readChildren(name, value, `${keyPath}.children`);
    }
  };

  const readVars = (g: Group, vars: unknown, keyPath: string) => {
    if (!isMapping(vars)) throw new ConfigError(hostsFile, keyPath, "expected a mapping of variables");
    Object.assign(g.vars, resolve(vars, hostsFile, keyPath));
    groupOrigin.set(g.name, hostsFile);
  };

  const readHosts = (g: Group, hosts: unknown, keyPath: string) => {
    if (!isMapping(hosts))
      throw new ConfigError(
        hostsFile,
        keyPath,
        "expected a mapping of host names (each with its variables or nothing)",
      );
    for (const [pattern, own] of Object.entries(hosts)) {
      const hostPath = `${keyPath}.${pattern}`;
      if (own !== null && !isMapping(own))
        throw new ConfigError(hostsFile, hostPath, "expected the host's variables as a mapping, or nothing");
      for (const host of expandHostRange(pattern, hostsFile, hostPath)) {
        g.hosts.add(host);
        if (!hostVars.has(host)) hostVars.set(host, []);
        if (own) hostVars.get(host)!.push({ vars: resolve(own, hostsFile, hostPath) as Vars, file: hostsFile });
      }
    }
  };

  const readChildren = (parent: string, children: unknown, keyPath: string) => {
    if (!isMapping(children)) throw new ConfigError(hostsFile, keyPath, "expected a mapping of child groups");
    for (const [child, childEntry] of Object.entries(children)) {
      group(parent).children.add(child);
      group(child).parents.add(parent);
      readGroup(child, childEntry, `${keyPath}.${child}`);
    }
  };

  const read: string[] = [];
  for (const { sources, varsDir } of inputs) {
    for (const source of sources) {
      hostsFile = source.name;
      const parsed = source.optional ? optionalSource(source, warnings) : source.groups();
      if (!parsed) continue;
      read.push(source.name);
      for (const [name, entry] of Object.entries(parsed)) readGroup(name, entry, name);
    }
    if (!varsDir) continue;
    for (const [vars, into] of [
      ["group_vars", groupVarFiles],
      ["host_vars", hostVarFiles],
    ] as const)
      for (const [name, files] of readVarsDir(join(varsDir, vars), resolve))
        into.set(name, [...(into.get(name) ?? []), ...files]);
  }
  const source = read.join(", ") || inputs.flatMap((i) => i.sources.map((s) => s.name)).join(", ");

  // As Ansible: `ungrouped` always, first among all's children, holding the hosts no other group has.
  const all = group("all");
  const u = group("ungrouped");
  for (const g of groups.values()) {
    if (g.name !== "all" && g.parents.size === 0) {
      all.children.add(g.name);
      g.parents.add("all");
    }
  }
  all.children = new Set(["ungrouped", ...[...all.children].filter((name) => name !== "ungrouped")]);
  for (const h of hostVars.keys())
    if (![...groups.values()].some((g) => g.name !== "all" && g.name !== "ungrouped" && g.hosts.has(h))) u.hosts.add(h);
  all.hosts.clear();
  detectCycles(groups, source);

  // As Ansible: vars of a group or host this inventory lacks are for another inventory beside it; one a letter away is said.
  for (const [vars, known] of [
    [groupVarFiles, [...groups.keys()]],
    [hostVarFiles, [...hostVars.keys()]],
  ] as const)
    for (const [name, files] of vars) {
      const meant = known.includes(name) ? undefined : likelyMeant(name, known);
      if (meant)
        warnings.push(`${files[0]!.file}: no "${name}" in ${source}, so it is not read; did you mean "${meant}"?`);
    }

  const hosts = new Map<string, InventoryHost>();
  for (const name of hostVars.keys()) {
    const memberOf = groupsOf(name, groups);
    const vars: Vars = {};
    const origins: Record<string, string> = {};
    const apply = (layer: Vars, file: string) => {
      for (const [key, value] of Object.entries(layer)) {
        vars[key] = value;
        origins[key] = file;
      }
    };
    for (const groupName of memberOf) {
      apply(groups.get(groupName)!.vars, groupOrigin.get(groupName) ?? source);
      for (const { vars: v, file } of groupVarFiles.get(groupName) ?? []) apply(v, file);
    }
    for (const { vars: v, file } of hostVars.get(name)!) apply(v, file);
    for (const { vars: v, file } of hostVarFiles.get(name) ?? []) apply(v, file);
    hosts.set(name, { name, groups: memberOf, vars, origins });
  }
  return { source, groups, hosts, secretValues: [...secrets.strings(), ...envValues], secrets, warnings };
}

/** The groups of a host ordered as Ansible merges them: by depth from `all`, then by name. */
function groupsOf(host: string, groups: Map<string, Group>): string[] {
  const depth = new Map<string, number>();
  const visit = (name: string, d: number) => {
    if ((depth.get(name) ?? -1) >= d) return;
    depth.set(name, d);
    for (const child of groups.get(name)!.children) visit(child, d + 1);
  };
  visit("all", 0);
  const contains = (name: string): boolean => {
    const g = groups.get(name)!;
    return g.hosts.has(host) || [...g.children].some(contains);
  };
  return [...groups.keys()]
    .filter((name) => name === "all" || contains(name))
    .sort((a, b) => depth.get(a)! - depth.get(b)! || a.localeCompare(b));
}

function detectCycles(groups: Map<string, Group>, file: string): void {
  const walk = (name: string, path: string[]) => {
    if (path.includes(name))
      throw new ConfigError(file, path.concat(name).join(" > "), "groups contain each other in a cycle");
    for (const child of groups.get(name)!.children) walk(child, path.concat(name));
  };
  walk("all", []);
}

/** group_vars/ or host_vars/: `NAME.yaml`, `NAME.yml`, `NAME` (YAML) or a folder `NAME/` of YAML files. */
function readVarsDir(dir: string, resolve: (value: unknown, file: string, keyPath: string) => unknown) {
  const result = new Map<string, Array<{ vars: Vars; file: string }>>();
  if (!existsSync(dir)) return result;
  for (const entry of readdirSync(dir).sort()) {
    const path = join(dir, entry);
    const files = statSync(path).isDirectory()
      ? readdirSync(path)
          .sort()
          .filter((f) => YAML_EXTENSIONS.some((e) => f.endsWith(e)))
          .map((f) => join(path, f))
      : [path];
    const name = YAML_EXTENSIONS.reduce((n, e) => (n.endsWith(e) ? n.slice(0, -e.length) : n), basename(entry));
    for (const file of files) {
      const data = readYaml(file);
      if (data === null || data === undefined) continue;
      if (!isMapping(data)) throw new ConfigError(file, "", "expected a mapping of variables");
      if (!result.has(name)) result.set(name, []);
      result.get(name)!.push({ vars: resolve(data, file, "") as Vars, file });
    }
  }
  return result;
}

/** The folder whose secrets store the inventories share: the first hosts file's, or the current one for host lists only. */
export function storeDirOf(paths: string | string[]): string {
  // Where the first -i that names a file or folder keeps its vars: the folder itself, or a file's own (no folder listed twice).
  const first = (Array.isArray(paths) ? paths : [paths]).find((path) => existsSync(path));
  return first === undefined ? process.cwd() : statSync(first).isDirectory() ? first : dirname(first);
}

/** The secrets store of these inventories, decrypted (an encrypted store needs the operator's age identity). */
export async function openSecretsStore(paths: string | string[]): Promise<SecretsStore> {
  const store = new SecretsStore(storeDirOf(paths));
  await store.unlock();
  return store;
}

function resolveReferences(
  value: unknown,
  file: string,
  keyPath: string,
  secrets: SecretsStore,
  envValues: string[],
): unknown {
  const at = (key: string) => (keyPath ? `${keyPath}.${key}` : key);
  if (value instanceof EnvReference) {
    const found = process.env[value.variable];
    if (found === undefined)
      throw new ConfigError(file, keyPath, `!env ${value.variable}: the environment variable is not set`);
    envValues.push(found);
    return found;
  }
  if (value instanceof SecretReference) {
    if (!secrets.has(value.name))
      throw new ConfigError(file, keyPath, `!secret ${value.name}: not in the secrets store (secrets.yaml)`);
    return secrets.get(value.name);
  }
  if (value instanceof AgeSealed)
    throw new ConfigError(
      file,
      keyPath,
      "an !age value belongs in the secrets store only: store it with rigger secrets set, and write !secret NAME here",
    );
  if (Array.isArray(value))
    return value.map((item, i) => resolveReferences(item, file, `${keyPath}[${i}]`, secrets, envValues));
  if (isMapping(value))
    return Object.fromEntries(
      Object.entries(value).map(([k, v]) => [k, resolveReferences(v, file, at(k), secrets, envValues)]),
    );
  return value;
}
