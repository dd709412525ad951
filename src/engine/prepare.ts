import { dirname, join } from "node:path";
import type { z } from "zod";
import { ConfigError } from "../inventory/errors.js";
import { CONNECTION_VAR_NAMES } from "../inventory/connection-vars.js";
import type { Inventory } from "../inventory/load.js";
import { coerceLoose } from "../inventory/coerce.js";
import { mdadLeftovers, readMdadNames, withMdadNames } from "../inventory/mdad.js";
import {
  nearMisses,
  outsideLimit,
  requiredMessage,
  variablesRefused,
  type VariableProblem,
} from "./variable-problems.js";
import { refuseShortSecrets, secretStrings } from "../inventory/secret-vars.js";
import type { Operation } from "../ops/operation.js";
import type { Masker } from "./masker.js";
import { serialProblem, type Serial } from "./rollout.js";
import { selectHosts, unmatchedTerms } from "./host-pattern.js";
import { tagged } from "./tag-selection.js";
import type { PortRule } from "../common/ports.js";
import { roleUse, type Fleet, type HostContext, type Playbook, type RoleUse } from "./playbook.js";
import type { SecretSource } from "./adopt-secrets.js";

export interface PreparedRole {
  name: string;
  tasks: Operation[];
  handlers: Record<string, Operation>;
  verify: Operation[];
  /** Its variables were refused: a listing of an inventory still being written names the role without its tasks. */
  unbuilt?: boolean;
}

/** What a host runs, as the evidence report draws it: its roles, the ports they open, the names it answers. */
export interface HostTopology {
  services: string[];
  ports: PortRule[];
  names: string[];
}

export interface PreparedPlay {
  name: string;
  /** Every probe runs, failed ones included; nothing else does. */
  checksOnly?: boolean;
  /** A role that fails puts back the files it wrote in this run and runs their handlers. */
  rollback?: boolean;
  serial?: Serial;
  maxFailPercentage?: number;
  /** For each selected host, its roles with their tasks built. */
  hosts: Map<string, PreparedRole[]>;
}

export interface PrepareOptions {
  playbookFile: string;
  extraVars: Record<string, unknown>;
  /** Extra vars given as key=value: strings read as the role's schema expects them (a number, a boolean). */
  looseExtraVars?: Set<string>;
  limit?: string;
  /** Learns every secret value (from the store, generated, or held under a secret name) before anything could print it. */
  masker: Masker;
  /** For --list-*: refused variables are a warning, and the roles they belong to are left unbuilt. */
  listing?: boolean;
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
): {
  plays: PreparedPlay[];
  warnings: string[];
  generatedSecrets: Record<string, string>;
  secretSources: Map<string, SecretSource[]>;
  topology: Map<string, HostTopology>;
} {
  const limited = options.limit ? new Set(selectHosts(inventory, options.limit)) : undefined;
  const warnings = new Set<string>();
  for (const term of options.limit ? unmatchedTerms(inventory, options.limit) : [])
    warnings.add(`--limit ${options.limit}: "${term}" matches no host or group of ${inventory.source}; ignoring it`);
  const generatedSecrets: Record<string, string> = {};
  // A declared secret nothing sets comes from the store, or is generated once for the whole run.
  const storedOrGenerated = (name: string, generator: () => string): unknown => {
    if (inventory.secrets.has(name)) return inventory.secrets.get(name);
    generatedSecrets[name] ??= generator();
    options.masker.add(generatedSecrets[name]);
    return generatedSecrets[name];
  };
  // Hosts outside --limit are parsed only to learn where they keep secrets: what would be generated for them is dropped.
  const discarded = (_name: string, generator: () => string): unknown => generator();
  const declared = new Set<string>(CONNECTION_VAR_NAMES);
  const problems: VariableProblem[] = [];
  // Each group's members once, not once per role and host: roles on every host of a fleet read them.
  const extraVars = { ...options.extraVars };
  readMdadNames(extraVars, () => "extra vars (-e)");
  // Each host's variables as the roles read them: MDAD's names (an MDAD inventory runs as it is) as rigger's.
  const own = new Map([...inventory.hosts.values()].map((h) => [h.name, withMdadNames(h, inventory.source)]));
  const members = new Map<string, Array<{ name: string; vars: Record<string, unknown> }>>();
  for (const h of inventory.hosts.values())
    for (const g of h.groups) {
      if (!members.has(g)) members.set(g, []);
      // As Ansible's hostvars: extra vars win there too.
      members.get(g)!.push({ name: h.name, vars: { ...own.get(h.name)!.vars, ...extraVars } });
    }
  const fleetOf = (host: string): Fleet => ({ host, members: (group) => members.get(group) ?? [] });
  // First every role's variables on every host, so that a role's tasks see the ports that all the
  // playbook's roles declare for that host (the firewall opens them before the services exist).
  const parsedPlays = playbook.plays.map((play) => {
    const hosts = selectHosts(inventory, play.hosts).filter((h) => !limited || limited.has(h));
    return {
      play,
      hosts: new Map(
        hosts.map((name) => [name, play.roles.map(roleUse).map((use) => parseRole(use, name, play.vars ?? {}))]),
      ),
    };
  });
  // Every variable refused on every host, said at once: one run to learn them all.
  if (problems.length && !options.listing) throw variablesRefused(problems);
  if (problems.length) warnings.add(variablesRefused(problems).message);
  const refusedHosts = new Set(problems.map((problem) => problem.host));
  function parseRole(
    { role, params }: RoleUse,
    name: string,
    playVars: Record<string, unknown>,
    secretValue = storedOrGenerated,
    refused = problems,
  ) {
    Object.keys(role.vars.shape).forEach((k) => declared.add(k));
    const host = own.get(name)!;
    const derived = role.derive?.(fleetOf(name)) ?? {};
    // inventory_dir, as Ansible names it: the inventory's folder (where its secrets store is).
    const vars: Record<string, unknown> = {
      inventory_dir: dirname(inventory.secrets.file),
      ...derived,
      ...host.vars,
      ...playVars,
      ...params,
      ...extraVars,
    };
    for (const key of options.looseExtraVars ?? [])
      if (typeof vars[key] === "string")
        vars[key] = coerceLoose(role.vars.shape[key] as z.ZodType | undefined, vars[key]);
    for (const [secret, generator] of Object.entries(role.secrets ?? {}))
      vars[secret] ??= secretValue(secret, generator);
    const origin = (key: string) =>
      key in extraVars
        ? "extra vars (-e)"
        : key in params || key in playVars
          ? options.playbookFile
          : (host.origins[key] ?? options.playbookFile);
    refuseShortSecrets(vars, name, origin);
    secretStrings(vars).forEach((value) => options.masker.add(value));
    const result = role.vars.safeParse(vars);
    if (!result.success)
      for (const issue of result.error.issues) {
        const key = String(issue.path[0]);
        // A variable nothing sets belongs in the inventory's group_vars, not in the playbook (unless
        // its role's own message says where it goes).
        const missing =
          issue.path.length === 1 && vars[key] === undefined && /, received undefined$/.test(issue.message);
        refused.push({
          file: missing ? join(dirname(inventory.secrets.file), "group_vars", "all.yaml") : origin(key),
          host: name,
          path: issue.path.map(String).join("."),
          message: missing
            ? requiredMessage(issue.message, role.vars.shape[key] as z.ZodType | undefined)
            : issue.message,
          role: role.name,
        });
      }
    return {
      role,
      vars,
      roleVars: (result.data ?? {}) as never,
      enabled: result.success ? (role.enabled?.(result.data) ?? true) : false,
    };
  }
  const topology = new Map<string, HostTopology>();
  for (const { hosts } of parsedPlays)
    for (const [name, parsed] of hosts) {
      const known = topology.get(name) ?? { services: [], ports: [], names: [] };
      const enabled = parsed.filter((entry) => entry.enabled);
      topology.set(name, {
        services: [...new Set([...known.services, ...enabled.map(({ role }) => role.name)])],
        ports: [...known.ports, ...enabled.flatMap(({ role, roleVars }) => role.ports?.(roleVars) ?? [])],
        names: [...new Set([...known.names, ...enabled.flatMap(({ role, roleVars }) => role.names?.(roleVars) ?? [])])],
      });
    }

  for (const play of playbook.plays) {
    const problem = play.serial === undefined ? undefined : serialProblem(play.serial);
    if (problem) throw new ConfigError(options.playbookFile, `play "${play.name}".serial`, problem);
    const budget = play.maxFailPercentage;
    if (budget !== undefined && !(budget >= 0 && budget <= 100))
      throw new ConfigError(
        options.playbookFile,
        `play "${play.name}".maxFailPercentage`,
        `expected a percentage from 0 to 100, got ${budget}`,
      );
  }
  const plays = parsedPlays.map(({ play, hosts }) => {
    const prepared = new Map<string, PreparedRole[]>();
    for (const [name, parsed] of hosts) {
      if (refusedHosts.has(name)) {
        prepared.set(
          name,
          parsed.map(({ role }) => ({ name: role.name, tasks: [], handlers: {}, verify: [], unbuilt: true })),
        );
        continue;
      }
      const host = inventory.hosts.get(name)!;
      const roles = parsed
        .filter(({ enabled, role }) => enabled || role.removal)
        .map(({ role, vars, roleVars, enabled }): PreparedRole => {
          const context: HostContext = { name, groups: host.groups, vars, ports: topology.get(name)!.ports };
          try {
            if (!enabled) {
              // A component turned off: what it deployed is taken away, and verify proves it gone.
              const removal = role.removal!(roleVars);
              return {
                name: role.name,
                tasks: play.checksOnly ? [] : tagged(removal.tasks, role.name),
                handlers: {},
                verify: tagged(removal.verify, role.name),
              };
            }
            return {
              name: role.name,
              tasks: play.checksOnly ? [] : tagged(role.tasks(roleVars, context), role.name),
              handlers: play.checksOnly ? {} : (role.handlers?.(roleVars, context) ?? {}),
              verify: tagged(role.verify?.(roleVars, context) ?? [], role.name),
            };
          } catch (error) {
            // A role that refuses its variables' combination says so before any host is touched.
            throw new ConfigError(options.playbookFile, `${name}: role ${role.name}`, (error as Error).message);
          }
        });
      // A task may notify a handler of any role of its play (a shared name, like Ansible's listen).
      const known = new Set(roles.flatMap((r) => Object.keys(r.handlers)));
      for (const role of roles) {
        const unknown = role.tasks.flatMap((op) =>
          (op.notify ?? []).filter((n) => !known.has(n)).map((n) => `${op.name} notifies "${n}"`),
        );
        if (unknown.length)
          throw new ConfigError(
            options.playbookFile,
            `role ${role.name}`,
            `no such handler in this play: ${unknown.join("; ")}`,
          );
      }
      prepared.set(name, roles);
    }
    return {
      name: play.name,
      checksOnly: play.checksOnly ?? false,
      rollback: play.rollback ?? false,
      serial: play.serial,
      maxFailPercentage: play.maxFailPercentage,
      hosts: prepared,
    };
  });
  const selected = new Set(parsedPlays.flatMap(({ hosts }) => [...hosts.keys()]));
  for (const name of selected)
    nearMisses(own.get(name)!.vars, (key) => own.get(name)!.origins[key]!, declared).forEach((w) => warnings.add(w));
  nearMisses(extraVars, () => "extra vars (-e)", declared).forEach((w) => warnings.add(w));
  const leftovers = mdadLeftovers(
    new Set([...selected].flatMap((name) => Object.keys(own.get(name)!.vars)).concat(Object.keys(extraVars))),
    declared,
  );
  if (leftovers.length)
    warnings.add(
      `MDAD's variables that rigger has no equivalent for, not read: ${leftovers.join(", ")} (README: "Coming from matrix-docker-ansible-deploy")`,
    );
  return { plays, warnings: [...warnings], generatedSecrets, secretSources: secretSources(parsedPlays), topology };

  /**
   * Where the hosts may already keep what this run would generate (a store lost, partial, or older
   * than a role): every inventory host of a play whose role keeps one of those secrets, whatever
   * --limit says, since the live value may be on a host this run does not touch.
   */
  function secretSources(limitedPlays: typeof parsedPlays): Map<string, SecretSource[]> {
    const sources = new Map<string, SecretSource[]>();
    // A secret being rotated is generated anew, never read back.
    const rotating = new Set(inventory.secrets.rotating());
    if (!Object.keys(generatedSecrets).some((name) => !rotating.has(name))) return sources;
    for (const { play, hosts } of limitedPlays)
      for (const name of selectHosts(inventory, play.hosts)) {
        const parsed =
          hosts.get(name) ??
          outsideLimit(name, (refused) =>
            play.roles.map(roleUse).map((use) => parseRole(use, name, play.vars ?? {}, discarded, refused)),
          );
        for (const { role, roleVars, enabled } of parsed)
          for (const [secret, source] of Object.entries((enabled && role.secretsOnHost?.(roleVars)) || {}))
            if (secret in generatedSecrets && !rotating.has(secret))
              sources.set(name, [...(sources.get(name) ?? []), { name: secret, ...source }]);
      }
    return sources;
  }
}
