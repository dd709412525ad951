/** Runs the CLI in-process against the testbed, with its output captured. */
import { cpSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { parse, stringify } from "yaml";
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

/** A copy of inventory/dev2 whose host is the given local port (a counting listener: proof that nothing connected), plus group vars. */
export function dev2AtPort(port: number, extra = ""): string {
  const dir = mkdtempSync(join(tmpdir(), "rigger-dev2-"));
  cpSync("inventory/dev2", dir, { recursive: true });
  // In host_vars, over the example's own address (a documentation address, never dialled).
  mkdirSync(join(dir, "host_vars"));
  writeFileSync(join(dir, "host_vars", "dev2.yaml"), `ansible_host: 127.0.0.1\nansible_port: ${port}\n`);
  writeFileSync(join(dir, "group_vars", "matrixrtc.yaml"), extra);
  return dir;
}

/** The hosts the general suites share; the fleet suite has hosts of its own. */
export const GENERAL_HOSTS = ["th1", "th2", "th3"];

/** An inventory of these test hosts (by default the general suites' ones) plus the given files (secrets.yaml is written 0600). */
export function testInventory(files: Record<string, string> = {}, hosts = GENERAL_HOSTS): string {
  const dir = mkdtempSync(join(tmpdir(), "rigger-e2e-"));
  const inventory = parse(readFileSync(inventoryFile, "utf8"));
  const running = inventory.all.children.testbed.hosts as Record<string, unknown>;
  inventory.all.children.testbed.hosts = Object.fromEntries(hosts.map((name) => [name, running[name]]));
  // An inventory that brings its own hosts file (INI, as MDAD's) has only that one: a folder's files are all read.
  if (!("hosts" in files)) writeFileSync(join(dir, "hosts.yaml"), stringify(inventory));
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
