import type { Inventory } from "../inventory/load.js";
import { globToRegExp } from "../common/glob.js";

/**
 * Selects hosts as Ansible patterns do: `all`, host or group names, globs (`sfu*`), joined by `:` or
 * `,`; `&group` keeps only hosts also in that group, `!name` removes. Order follows the inventory.
 */
export function selectHosts(inventory: Inventory, pattern: string): string[] {
  const members = (term: string): Set<string> => {
    const glob = globToRegExp(term);
    const found = new Set<string>();
    for (const host of inventory.hosts.values()) {
      if (glob.test(host.name) || host.groups.some((g) => glob.test(g))) found.add(host.name);
    }
    return found;
  };
  let selected = new Set<string>();
  const terms = pattern
    .split(/[:,]/)
    .map((t) => t.trim())
    .filter(Boolean);
  for (const term of terms.filter((t) => !t.startsWith("!") && !t.startsWith("&")))
    members(term).forEach((h) => selected.add(h));
  for (const term of terms.filter((t) => t.startsWith("&"))) {
    const keep = members(term.slice(1));
    selected = new Set([...selected].filter((h) => keep.has(h)));
  }
  for (const term of terms.filter((t) => t.startsWith("!"))) members(term.slice(1)).forEach((h) => selected.delete(h));
  return [...inventory.hosts.keys()].filter((h) => selected.has(h));
}

/** The terms of a pattern that match no host or group of the inventory (Ansible: "Could not match supplied host pattern, ignoring"). */
export function unmatchedTerms(inventory: Inventory, pattern: string): string[] {
  return pattern
    .split(/[:,]/)
    .map((t) => t.trim().replace(/^[!&]/, ""))
    .filter((term) => term && selectHosts(inventory, term).length === 0);
}
