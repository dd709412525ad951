import type { z } from "zod";
import type { PortRule } from "../common/ports.js";
import type { Operation } from "../ops/operation.js";
import type { Serial } from "./rollout.js";
import type { SecretOnHost } from "./secret-on-host.js";

export type { PortRule };

/** What a role's tasks know of the host they are built for. */
export interface HostContext {
  name: string;
  groups: string[];
  /** Every variable of the host after precedence (inventory, play vars, role params, extra vars). */
  vars: Record<string, unknown>;
  /** Every port the play's roles declare for this host (what a firewall role opens). */
  ports: PortRule[];
}

export type VarsSchema = z.ZodObject<z.ZodRawShape>;

/** The inventory as a role may read it to derive a default: the hosts of a group, each with its variables. */
export interface Fleet {
  /** This host. */
  host: string;
  members(group: string): Array<{ name: string; vars: Record<string, unknown> }>;
}

export interface Role<S extends VarsSchema = VarsSchema> {
  name: string;
  /** The role's variables with their defaults: a misspelt or mistyped one is an error before any host is touched. */
  vars: S;
  /** Whether the host runs this role at all (the deployment's shape, `<role>_enabled`); by default it does. */
  enabled?(vars: z.output<S>): boolean;
  /** When it is not enabled: the tasks that take away what it deployed, and the checks that it is gone. */
  removal?(vars: z.output<S>): { tasks: Operation[]; verify: Operation[] };
  tasks(vars: z.output<S>, host: HostContext): Operation[];
  /** Named actions that tasks notify; each runs once per host at the end of the role, in this order. */
  handlers?(vars: z.output<S>, host: HostContext): Record<string, Operation>;
  /**
   * Secrets the role needs, each with its generator: when nothing sets the variable, its value is
   * generated once on the controller and kept in the inventory's secrets store for every later run.
   */
  secrets?: Record<string, () => string>;
  /** Where each of these secrets lives on a host that ran the role: a run without its store adopts them from there. */
  secretsOnHost?(vars: z.output<S>): Record<string, SecretOnHost>;
  /**
   * Defaults computed from the rest of the inventory (the addresses of another group's hosts):
   * below everything the operator sets, above the schema's own defaults.
   */
  derive?(fleet: Fleet): Record<string, unknown>;
  /** The ports this role's services need open to the outside. */
  ports?(vars: z.output<S>): PortRule[];
  /** The public names clients reach this role's services by on this host (the evidence report's picture). */
  names?(vars: z.output<S>): string[];
  /** Health probes that prove the role's result; they run after its handlers (not in check mode). */
  verify?(vars: z.output<S>, host: HostContext): Operation[];
}

export function defineRole<S extends VarsSchema>(role: Role<S>): Role<S> {
  return role;
}

/** A role as a play uses it, with parameters the type checker holds to the role's schema. */
export interface RoleUse {
  role: Role;
  params: Record<string, unknown>;
}

export function use<S extends VarsSchema>(role: Role<S>, params: Partial<z.input<S>> = {}): RoleUse {
  return { role: role as unknown as Role, params };
}

export interface Play {
  name: string;
  /** A host pattern: names, groups, globs, `!exclusion`, joined by `:` or `,`. */
  hosts: string;
  /** Only the roles' verify probes, every one of them even after one fails (a report, not a rollout). */
  checksOnly?: boolean;
  /**
   * A role that fails on a host puts back the config files it wrote in this run and runs the
   * handlers they notified, so its services read the old config (an upgrade that does not come up).
   */
  rollback?: boolean;
  /** Roll out in batches: a number of hosts, a percentage ("50%"), or a ramp ([1, "50%", "100%"]). */
  serial?: Serial;
  /** The failure budget of each batch, in percent of it (default 0: one failed host stops the rollout). */
  maxFailPercentage?: number;
  vars?: Record<string, unknown>;
  roles: Array<Role | RoleUse>;
}

export interface Playbook {
  plays: Play[];
}

export function definePlaybook(plays: Play[]): Playbook {
  return { plays };
}

export function roleUse(entry: Role | RoleUse): RoleUse {
  return "role" in entry ? entry : { role: entry, params: {} };
}
