import type { PreparedPlay } from "../engine/prepare.js";

/** `--list-hosts`: what each play would touch, as Ansible prints it. */
export function listHosts(plays: PreparedPlay[]): string[] {
  return plays.flatMap((play) => [`play "${play.name}" (${play.hosts.size} hosts):`, ...[...play.hosts.keys()].map((h) => `  ${h}`)]);
}

/** `--list-tasks`: each play's roles and their tasks (as built for the play's hosts; a task some hosts lack is listed once). */
export function listTasks(plays: PreparedPlay[]): string[] {
  return plays.flatMap((play) => {
    const roles = new Map<string, Set<string>>();
    for (const hostRoles of play.hosts.values())
      for (const role of hostRoles) {
        const tasks = roles.get(role.name) ?? new Set<string>();
        role.tasks.forEach((op) => tasks.add(op.tags?.length ? `${op.name}  [${op.tags.join(", ")}]` : op.name));
        roles.set(role.name, tasks);
      }
    return [`play "${play.name}":`, ...[...roles].flatMap(([role, tasks]) => [`  ${role}`, ...[...tasks].map((t) => `    ${t}`)])];
  });
}
