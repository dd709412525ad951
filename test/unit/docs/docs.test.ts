/** The repository carries its own docs: every link resolves inside it, and the troubleshooting guide names checks that tests make fail. */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { expect, it } from "vitest";

const ROOT = resolve(import.meta.dirname, "../../..");
const SKIPPED = new Set(["node_modules", "dist", ".git", ".state"]);

function filesUnder(dir: string, keep: (file: string) => boolean): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    if (SKIPPED.has(entry)) return [];
    return statSync(path).isDirectory() ? filesUnder(path, keep) : keep(path) ? [path] : [];
  });
}

it("links only to files the repository holds (no link leaves it)", () => {
  const broken: string[] = [];
  for (const file of filesUnder(ROOT, (f) => f.endsWith(".md")))
    for (const [, target] of readFileSync(file, "utf8").matchAll(/\]\(([^)\s]+)\)/g)) {
      const path = target!.split("#")[0]!;
      const where = resolve(dirname(file), path);
      if (/^[a-z]+:/i.test(target!) || !where.startsWith(ROOT) || (path && !existsSync(where)))
        broken.push(`${relative(ROOT, file)}: ${target}`);
    }
  expect(broken).toEqual([]);
  expect(existsSync(join(ROOT, "docs", "architecture.md"))).toBe(true);
});

it("names, for every symptom of the troubleshooting guide, a check of a role that a test makes fail", () => {
  const guide = readFileSync(join(ROOT, "docs", "troubleshooting.md"), "utf8");
  const rows = guide.split("\n").filter((line) => line.startsWith("| ") && !line.startsWith("| what users see"));
  expect(rows.length).toBeGreaterThanOrEqual(8);
  const tests = filesUnder(join(ROOT, "test"), (f) => f.endsWith(".test.ts") && !f.includes("/unit/"))
    .map((f) => readFileSync(f, "utf8"))
    .join("\n");
  const unproven: string[] = [];
  for (const row of rows) {
    const named = /^\| [^|]+ \| `([a-z_]+): ([^`]+)` \|/.exec(row);
    if (!named) {
      unproven.push(`no check named: ${row}`);
      continue;
    }
    const [, role, check] = named;
    if (!existsSync(join(ROOT, "roles", role!))) unproven.push(`no role ${role}`);
    // Placeholders in the guide (MATRIX_HOST) stand for what a test writes in their place.
    const pattern = check!.replace(/[.*+?^${}()|[\]\\]/g, "\\$&").replace(/MATRIX_HOST/g, ".+");
    if (!new RegExp(`${role} \\| verify: ${pattern}: failed`).test(tests)) unproven.push(`${role}: ${check}`);
  }
  expect(unproven).toEqual([]);
});
