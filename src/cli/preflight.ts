/** What a run refuses after preparing its plays and before any connection, as ansible-playbook does. */
import type { Playbook } from "../engine/playbook.js";
import type { PreparedPlay } from "../engine/prepare.js";
import { playTags } from "../engine/tag-selection.js";
import type { Inventory } from "../inventory/load.js";
import type { CliOptions } from "./args.js";

/** Why a run has no host: the groups its plays want, and those the inventory has. */
export function noHostMatches(playbook: Playbook, inventory: Inventory, limit: string | undefined): string {
  const wanted = [...new Set(playbook.plays.flatMap((play) => play.hosts.split(/[:,]/)))].join(", ");
  const groups = [...inventory.groups.values()]
    .filter((g) => g.name !== "all" && (g.hosts.size || g.children.size))
    .map((g) => g.name);
  return (
    `no host of ${inventory.source} matches the playbook${limit ? ` and --limit ${limit}` : ""}: its plays run on the groups ${wanted}; ` +
    `the inventory has ${groups.length ? groups.join(", ") : "no group with hosts"} (put the hosts in one of the playbook's groups, as [matrixrtc] in an INI file or all.children.matrixrtc in YAML)`
  );
}

/** A -t or --skip-tags tag that no task of the run carries is a mistake, not a run that does nothing: said before any connection. */
export function unknownTagsWarning(options: CliOptions, plays: PreparedPlay[]): string | undefined {
  const known = playTags(plays);
  for (const [flag, tags] of [
    ["-t", options.tags],
    ["--skip-tags", options.skipTags],
  ] as const) {
    const unknown = (tags ?? []).filter((tag) => !known.has(tag));
    if (unknown.length)
      return `${flag} ${unknown.join(",")}: no task of this run has ${unknown.length > 1 ? "these tags" : "this tag"}; nothing done (--list-tags: ${[...known].sort().join(", ")})`;
  }
  return undefined;
}
