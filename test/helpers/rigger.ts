/** Runs the CLI in-process against the testbed, with its output captured. */
import { copyFileSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { main } from "../../src/cli/main.js";
import { inventoryFile } from "../testbed/testbed.js";

export interface CliRun {
  code: number;
  out: string;
  err: string;
}

export async function rigger(...args: string[]): Promise<CliRun> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

/** An inventory of the test hosts plus the given files (secrets.yaml is written 0600). */
export function testInventory(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "rigger-e2e-"));
  copyFileSync(inventoryFile, join(dir, "hosts.yaml"));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, ".."), { recursive: true });
    writeFileSync(join(dir, path), content, { mode: 0o600 });
  }
  return dir;
}

/** Task lines of a run's output that report a change (done or due) or a failure. */
export const notOk = (out: string) =>
  out
    .split("\n")
    .filter((l) => /^\[\w+\] .*: (changed|would change|would run|failed)/.test(l))
    .map((l) => l.replace(/ \(\d+ ms\)$/, ""));
