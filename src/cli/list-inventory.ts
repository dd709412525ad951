import type { Inventory } from "../inventory/load.js";

/** The merged inventory in the shape of `ansible-inventory --list`. */
export function listInventory(inventory: Inventory): Record<string, unknown> {
  const out: Record<string, unknown> = {
    _meta: { hostvars: Object.fromEntries([...inventory.hosts.values()].map((h) => [h.name, h.vars])) },
  };
  for (const group of inventory.groups.values()) {
    const entry: Record<string, string[]> = {};
    if (group.hosts.size) entry.hosts = [...group.hosts];
    if (group.children.size) entry.children = [...group.children];
    out[group.name] = entry;
  }
  return out;
}
