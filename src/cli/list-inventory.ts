import type { Inventory } from "../inventory/load.js";

/**
 * The merged inventory as `ansible-inventory --list` prints it: variables per host (hosts that have
 * some), `all` with its children only, and every other group that has hosts or children.
 */
export function listInventory(inventory: Inventory): Record<string, unknown> {
  const hostvars = [...inventory.hosts.values()].filter((h) => Object.keys(h.vars).length).map((h) => [h.name, h.vars]);
  const out: Record<string, unknown> = { _meta: { hostvars: Object.fromEntries(hostvars) } };
  for (const group of inventory.groups.values()) {
    const entry: Record<string, string[]> = {};
    if (group.hosts.size && group.name !== "all") entry.hosts = [...group.hosts];
    if (group.children.size) entry.children = [...group.children];
    if (Object.keys(entry).length || group.name === "all") out[group.name] = entry;
  }
  return out;
}
