import { Masker } from "../../../src/engine/masker.js";
import { preparePlaybook } from "../../../src/engine/prepare.js";
import { loadInventory } from "../../../src/inventory/load.js";
import site from "../../../playbooks/site.js";

/** The site playbook prepared for an inventory, as a run would before touching a host. */
export const prepared = (inventory: string, extraVars: Record<string, unknown> = {}, limit?: string) =>
  preparePlaybook(site, loadInventory(inventory), {
    playbookFile: "playbooks/site.ts",
    extraVars,
    limit,
    masker: new Masker(),
  });

/** The roles a host runs, in order. */
export const rolesOf = (plays: ReturnType<typeof prepared>["plays"], host: string) =>
  plays.flatMap((p) => (p.hosts.get(host) ?? []).map((r) => r.name));

/** The names of a role's tasks on a host. */
export const tasksOf = (plays: ReturnType<typeof prepared>["plays"], host: string, role: string) =>
  plays
    .flatMap((p) => p.hosts.get(host) ?? [])
    .filter((r) => r.name === role)
    .flatMap((r) => r.tasks.map((t) => t.name));

/** What a file or template task of the prepared site writes to a bare host. */
export function rendered(plays: ReturnType<typeof prepared>["plays"], host: string, path: string): string {
  const task = plays
    .flatMap((p) => (p.hosts.get(host) ?? []).flatMap((r) => r.tasks))
    .find((t) => t.name === `template ${path}` || t.name === `file ${path}`);
  if (!task) throw new Error(`${host} has no task writing ${path}`);
  const [step] = task.plan({ current: { exists: false } }) as Array<{ content: string }>;
  return step!.content;
}

/** The names of a role's checks (verify) on a host. */
export const checksOf = (plays: ReturnType<typeof prepared>["plays"], host: string, role: string) =>
  plays
    .flatMap((p) => p.hosts.get(host) ?? [])
    .filter((r) => r.name === role)
    .flatMap((r) => r.verify.map((t) => t.name));
