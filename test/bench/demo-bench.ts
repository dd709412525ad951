/**
 * `npm run bench`: a no-change run of the demo playbook on 1 and on every test host, against the
 * floor (Node start + ssh2 connect + one exec per host) and, when it is installed, Ansible.
 * Needs the testbed (`npm run testbed:up`).
 */
import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { testInventory } from "../helpers/rigger.js";
import { loadTestbed } from "../testbed/testbed.js";

const RUNS = Number(process.env.BENCH_RUNS ?? 7);
const testbed = loadTestbed();
const inventory = testInventory({ "group_vars/all.yaml": "demo_api_token: !secret demo_api_token\n", "secrets.yaml": "demo_api_token: bench-token-0123456789-0123456789-abcdef\n" });
const tsx = join("node_modules", ".bin", "tsx");

function seconds(command: string, args: string[]): number {
  const started = process.hrtime.bigint();
  const result = spawnSync(command, args, { encoding: "utf8" });
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed:\n${result.stdout}${result.stderr}`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const timed = (command: string, args: string[]) => median(Array.from({ length: RUNS }, () => seconds(command, args)));

// Converge first, so that what is timed is a run with nothing to change.
seconds(tsx, ["run.ts", "playbooks/demo.ts", "-i", inventory]);

console.log(`no-change run of playbooks/demo.ts, median of ${RUNS} (seconds)\n`);
console.log("hosts  rigger  floor  rigger/floor  engine  round trips per host");
for (const count of [...new Set([1, testbed.hosts.length])]) {
  const hosts = testbed.hosts.slice(0, count);
  const limit = hosts.map((h) => h.name).join(",");
  const report = join(inventory, `bench-${count}.json`);
  const rigger = timed(tsx, ["run.ts", "playbooks/demo.ts", "-i", inventory, "--limit", limit, "--json", report]);
  const floor = timed("node", ["test/bench/floor.mjs", testbed.keyFile, ...hosts.map((h) => h.ip)]);
  // "engine": from the first connection to the recap, i.e. without Node, tsx and module loading.
  const { hosts: summary, ms } = JSON.parse(readFileSync(report, "utf8")) as { ms: number; hosts: Array<{ changed: number; roundTrips: number }> };
  if (summary.some((h) => h.changed > 0)) throw new Error("the timed run changed something: it is not a no-change run");
  const trips = [...new Set(summary.map((h) => h.roundTrips))].join("/");
  console.log(`${String(count).padEnd(5)}  ${rigger.toFixed(2).padStart(6)}  ${floor.toFixed(2).padStart(5)}  ${(rigger / floor).toFixed(2).padStart(12)}  ${(ms / 1000).toFixed(2).padStart(6)}  ${trips}`);
}
if (spawnSync("ansible-playbook", ["--version"]).status !== 0) console.log("\nansible-playbook is not installed: no Ansible column");
