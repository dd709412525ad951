import { FLUSH_HANDLERS, type Operation } from "../ops/operation.js";

export interface TagSelection {
  tags?: string[];
  skipTags?: string[];
}

/** Whether -t and --skip-tags leave an operation in the run, as Ansible selects tasks by their tags. */
export const selectedByTags = (op: Pick<Operation, "tags">, selection: TagSelection) =>
  (!selection.tags?.length || op.tags?.some((t) => selection.tags!.includes(t))) &&
  !op.tags?.some((t) => selection.skipTags?.includes(t));

/** Every task and check of a role carries the role's name as a tag (`-t livekit`); flush markers stay as they are. */
export const tagged = (ops: Operation[], role: string): Operation[] =>
  ops.map((op) =>
    op === FLUSH_HANDLERS || op.tags?.includes(role) ? op : { ...op, tags: [...(op.tags ?? []), role] },
  );

type RolesOf = { hosts: Map<string, Array<{ name: string; tasks: Operation[]; verify: Operation[] }>> };

/** Every tag of the prepared plays' tasks and checks (each carries its role's name). */
export const playTags = (plays: RolesOf[]): Set<string> =>
  new Set(
    plays.flatMap((play) =>
      [...play.hosts.values()].flatMap((roles) =>
        roles.flatMap((role) => [role.name, ...[...role.tasks, ...role.verify].flatMap((op) => op.tags ?? [])]),
      ),
    ),
  );
