import type { Operation } from "../ops/operation.js";

export interface TagSelection {
  tags?: string[];
  skipTags?: string[];
}

/** Whether -t and --skip-tags leave an operation in the run, as Ansible selects tasks by their tags. */
export const selectedByTags = (op: Pick<Operation, "tags">, selection: TagSelection) =>
  (!selection.tags?.length || op.tags?.some((t) => selection.tags!.includes(t))) && !op.tags?.some((t) => selection.skipTags?.includes(t));
