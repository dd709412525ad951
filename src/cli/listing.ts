import type { PreparedPlay } from "../engine/prepare.js";
import { playTags } from "../engine/tag-selection.js";
import { selectedByTags, type TagSelection } from "../engine/tag-selection.js";

/** `--list-hosts`: what each play would touch, as Ansible prints it. */
export function listHosts(plays: PreparedPlay[]): string[] {
  return plays.flatMap((play) => [
    `play "${play.name}" (${play.hosts.size} hosts):`,
    ...[...play.hosts.keys()].map((h) => `  ${h}`),
  ]);
}

/**
 * `--list-tasks`: each play's roles and the tasks a run with the same -t, --skip-tags and
 * --start-at-task would go through (as built for the play's hosts; a task some hosts lack is listed once).
 */
export function listTasks(plays: PreparedPlay[], selection: TagSelection & { startAtTask?: string } = {}): string[] {
  let reached = !selection.startAtTask;
  return plays.flatMap((play) => {
    const roles = new Map<string, Set<string>>();
    const passed = new Set<string>();
    for (const hostRoles of play.hosts.values())
      for (const role of hostRoles) {
        const tasks = roles.get(role.name) ?? new Set<string>();
        role.tasks.forEach((op) => {
          if (!reached && op.name === selection.startAtTask) reached = true;
          if (!reached) return void passed.add(op.name);
          if (passed.has(op.name) || !selectedByTags(op, selection)) return;
          // Every task has its role's name as a tag: listed under the role, only the others are shown.
          const own = (op.tags ?? []).filter((t) => t !== role.name);
          tasks.add(own.length ? `${op.name}  [${own.join(", ")}]` : op.name);
        });
        if (role.unbuilt && reached && selectedByTags({ tags: [role.name] }, selection))
          tasks.add("(its tasks are built once the variables warned about are set)");
        if (tasks.size) roles.set(role.name, tasks);
      }
    return roles.size
      ? [
          `play "${play.name}":`,
          ...[...roles].flatMap(([role, tasks]) => [`  ${role}`, ...[...tasks].map((t) => `    ${t}`)]),
        ]
      : [];
  });
}

/** `--list-tags`: each play's tags (its roles' names and any a task adds), then all of them, as ansible-playbook does. */
export function listTags(plays: PreparedPlay[]): string[] {
  const sorted = (tags: Set<string>) => `[${[...tags].sort().join(", ")}]`;
  return [
    ...plays.map((play) => `play "${play.name}": TASK TAGS: ${sorted(playTags([play]))}`),
    `ALL TAGS: ${sorted(playTags(plays))}`,
  ];
}
