import { existsSync, readdirSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { ConfigError } from "./errors.js";
import { expandHostRange } from "./host-patterns.js";
import { likelyMeant } from "./near-miss.js";
import { SecretsStore } from "./secrets-store.js";
import { EnvReference, SecretReference, isMapping, readYaml } from "./yaml-file.js";

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
}

const GROUP_KEYS = ["hosts", "vars", "children"];
const YAML_EXTENSIONS = [".yaml", ".yml"];

/** Reads an Ansible-style YAML inventory (a hosts file, or a folder holding hosts.yaml). */
export function loadInventory(path: string): Inventory {
  const hostsFile = findHostsFile(path);
  const dir = dirname(hostsFile);
  const secrets = new SecretsStore(dir);
  const envValues: string[] = [];
  const resolve = (value: unknown, file: string, keyPath: string) => resolveReferences(value, file, keyPath, secrets, envValues);

  const groups = new Map<string, Group>();
  const hostVars = new Map<string, Array<{ vars: Vars; file: string }>>();
  const groupVarFiles = new Map<string, Array<{ vars: Vars; file: string }>>();
  const group = (name: string): Group => {
    let g = groups.get(name);
    if (!g) groups.set(name, (g = { name, hosts: new Set(), children: new Set(), parents: new Set(), vars: {} }));
    return g;
  };

  const readGroup = (name: string, entry: unknown, keyPath: string) => {
    const g = group(name);
    if (entry === null || entry === undefined) return;
    if (!isMapping(entry)) throw new ConfigError(hostsFile, keyPath, "expected a mapping with hosts, vars or children");
    for (const key of Object.keys(entry)) {
      if (!GROUP_KEYS.includes(key)) {
        const hint = likelyMeant(key, GROUP_KEYS);
        throw new ConfigError(hostsFile, `${keyPath}.${key}`, `unknown key; a group has ${GROUP_KEYS.join(", ")}${hint ? ` (did you mean "${hint}"?)` : ""}`);
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
  };

  const readHosts = (g: Group, hosts: unknown, keyPath: string) => {
    if (!isMapping(hosts)) throw new ConfigError(hostsFile, keyPath, "expected a mapping of host names (each with its variables or nothing)");
    for (const [pattern, own] of Object.entries(hosts)) {
      const hostPath = `${keyPath}.${pattern}`;
      if (own !== null && !isMapping(own)) throw new ConfigError(hostsFile, hostPath, "expected the host's variables as a mapping, or nothing");
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

  const top = readYaml(hostsFile);
  if (!isMapping(top)) throw new ConfigError(hostsFile, "", "expected a mapping of groups at the top (usually `all:`)");
  for (const [name, entry] of Object.entries(top)) readGroup(name, entry, name);

  const all = group("all");
  for (const g of groups.values()) {
    if (g.name !== "all" && g.parents.size === 0) {
      all.children.add(g.name);
      g.parents.add("all");
    }
  }
  const ungrouped = [...hostVars.keys()].filter((h) => ![...groups.values()].some((g) => g.name !== "all" && g.hosts.has(h)));
  if (ungrouped.length > 0) {
    const u = group("ungrouped");
    ungrouped.forEach((h) => u.hosts.add(h));
    u.parents.add("all");
    all.children.add("ungrouped");
  }
  all.hosts.clear();
  detectCycles(groups, hostsFile);

  for (const [name, files] of readVarsDir(join(dir, "group_vars"), resolve)) groupVarFiles.set(name, files);
  const hostVarFiles = readVarsDir(join(dir, "host_vars"), resolve);
  for (const name of groupVarFiles.keys()) if (!groups.has(name)) throw new ConfigError(join(dir, "group_vars", name), "", `no group "${name}" in ${hostsFile}`);
  for (const name of hostVarFiles.keys()) if (!hostVars.has(name)) throw new ConfigError(join(dir, "host_vars", name), "", `no host "${name}" in ${hostsFile}`);

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
      apply(groups.get(groupName)!.vars, hostsFile);
      for (const { vars: v, file } of groupVarFiles.get(groupName) ?? []) apply(v, file);
    }
    for (const { vars: v, file } of hostVars.get(name)!) apply(v, file);
    for (const { vars: v, file } of hostVarFiles.get(name) ?? []) apply(v, file);
    hosts.set(name, { name, groups: memberOf, vars, origins });
  }
  return { source: hostsFile, groups, hosts, secretValues: [...secrets.strings(), ...envValues], secrets };
}

function findHostsFile(path: string): string {
  if (!existsSync(path)) throw new ConfigError(path, "", "no such inventory (expected a hosts.yaml file or a folder holding one)");
  if (!statSync(path).isDirectory()) return path;
  for (const name of ["hosts.yaml", "hosts.yml"]) if (existsSync(join(path, name))) return join(path, name);
  throw new ConfigError(path, "", "the inventory folder holds no hosts.yaml");
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
    if (path.includes(name)) throw new ConfigError(file, path.concat(name).join(" > "), "groups contain each other in a cycle");
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
      ? readdirSync(path).sort().filter((f) => YAML_EXTENSIONS.some((e) => f.endsWith(e))).map((f) => join(path, f))
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

function resolveReferences(value: unknown, file: string, keyPath: string, secrets: SecretsStore, envValues: string[]): unknown {
  const at = (key: string) => (keyPath ? `${keyPath}.${key}` : key);
  if (value instanceof EnvReference) {
    const found = process.env[value.variable];
    if (found === undefined) throw new ConfigError(file, keyPath, `!env ${value.variable}: the environment variable is not set`);
    envValues.push(found);
    return found;
  }
  if (value instanceof SecretReference) {
    if (!secrets.has(value.name)) throw new ConfigError(file, keyPath, `!secret ${value.name}: not in the secrets store (secrets.yaml)`);
    return secrets.get(value.name);
  }
  if (Array.isArray(value)) return value.map((item, i) => resolveReferences(item, file, `${keyPath}[${i}]`, secrets, envValues));
  if (isMapping(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveReferences(v, file, at(k), secrets, envValues)]));
  return value;
}
