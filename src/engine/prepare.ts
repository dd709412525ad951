import { ConfigError } from "../inventory/errors.js";
import { CONNECTION_VAR_NAMES } from "../inventory/connection-vars.js";
import type { Inventory, InventoryHost } from "../inventory/load.js";
import { likelyMeant } from "../inventory/near-miss.js";
import { secretStrings } from "../inventory/secret-vars.js";
import type { Operation } from "../ops/operation.js";
import type { Masker } from "./masker.js";
import { selectHosts } from "./host-pattern.js";
import { roleUse, type HostContext, type Playbook } from "./playbook.js";

export interface PreparedRole {
  name: string;
  tasks: Operation[];
  handlers: Record<string, Operation>;
  verify: Operation[];
}

export interface PreparedPlay {
  name: string;
  /** For each selected host, its roles with their tasks built. */
  hosts: Map<string, PreparedRole[]>;
}

export interface PrepareOptions {
  playbookFile: string;
  extraVars: Record<string, unknown>;
  limit?: string;
  /** Learns every secret value (from the store, generated, or held under a secret name) before anything could print it. */
  masker: Masker;
}

/**
 * Everything that can be known before connecting: hosts per play, each host's variables by
 * precedence (role defaults < inventory < play vars < role params < extra vars), validated against
 * the roles' schemas, and every task built (templates rendered). Errors here touch no host.
 */
export function preparePlaybook(
  playbook: Playbook,
  inventory: Inventory,
  options: PrepareOptions,
): { plays: PreparedPlay[]; warnings: string[]; generatedSecrets: Record<string, string> } {
  const limited = options.limit ? new Set(selectHosts(inventory, options.limit)) : undefined;
  const warnings = new Set<string>();
  const generatedSecrets: Record<string, string> = {};
  // A declared secret nothing sets comes from the store, or is generated once for the whole run.
  const storedOrGenerated = (name: string, generator: () => string): unknown => {
    if (inventory.secrets.has(name)) return inventory.secrets.get(name);
    generatedSecrets[name] ??= generator();
    options.masker.add(generatedSecrets[name]);
    return generatedSecrets[name];
  };
  const plays = playbook.plays.map((play) => {
    const hosts = new Map<string, PreparedRole[]>();
    for (const name of selectHosts(inventory, play.hosts).filter((h) => !limited || limited.has(h))) {
      const host = inventory.hosts.get(name)!;
      const playVars = play.vars ?? {};
      const declared = new Set<string>(CONNECTION_VAR_NAMES);
      // First every role's variables, so that each role's tasks can see the ports of all of them.
      const parsed = play.roles.map(roleUse).map(({ role, params }) => {
        Object.keys(role.vars.shape).forEach((k) => declared.add(k));
        const vars: Record<string, unknown> = { ...host.vars, ...playVars, ...params, ...options.extraVars };
        for (const [secret, generator] of Object.entries(role.secrets ?? {})) vars[secret] ??= storedOrGenerated(secret, generator);
        secretStrings(vars).forEach((value) => options.masker.add(value));
        const origin = (key: string) =>
          key in options.extraVars ? "extra vars (-e)" : key in params || key in playVars ? options.playbookFile : host.origins[key] ?? options.playbookFile;
        const result = role.vars.safeParse(vars);
        if (!result.success) {
          const issue = result.error.issues[0]!;
          const key = issue.path.map(String).join(".");
          throw new ConfigError(origin(String(issue.path[0])), `${name}: ${key}`, `${issue.message} (role ${role.name})`);
        }
        return { role, vars, roleVars: result.data };
      });
      const ports = parsed.flatMap(({ role, roleVars }) => role.ports?.(roleVars) ?? []);
      const roles = parsed.map(({ role, vars, roleVars }): PreparedRole => {
        const context: HostContext = { name, groups: host.groups, vars, ports };
        const prepared = {
          name: role.name,
          tasks: role.tasks(roleVars, context),
          handlers: role.handlers?.(roleVars, context) ?? {},
          verify: role.verify?.(roleVars, context) ?? [],
        };
        const unknown = prepared.tasks.flatMap((op) => (op.notify ?? []).filter((n) => !(n in prepared.handlers)).map((n) => `${op.name} notifies "${n}"`));
        if (unknown.length) throw new ConfigError(options.playbookFile, `role ${role.name}`, `no such handler: ${unknown.join("; ")}`);
        return prepared;
      });
      nearMisses(host, declared).forEach((w) => warnings.add(w));
      hosts.set(name, roles);
    }
    return { name: play.name, hosts };
  });
  return { plays, warnings: [...warnings], generatedSecrets };
}

/** Variables no role declares that look like a declared name with a typo. */
function nearMisses(host: InventoryHost, declared: Set<string>): string[] {
  return Object.keys(host.vars).flatMap((key) => {
    if (declared.has(key)) return [];
    const meant = likelyMeant(key, declared);
    return meant ? [`${host.origins[key]}: ${key}: not a variable of any role in this playbook; did you mean "${meant}"?`] : [];
  });
}
