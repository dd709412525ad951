/**
 * `npm run bench`: the DESIGN.md workload (3 packages, 3 directories, 10 templates, 2 copied
 * files, 2 unit files and their services, a handler, a sysctl, a guarded command; test/bench/workload/)
 * done by rigger, Ansible and pyinfra on the same fresh test hosts: 1, 3 and 10 hosts
 * (BENCH_HOSTS=1,3,10,30 for more), a run with nothing to change and a run after one template
 * drifted on every host, the tools interleaved round by round (BENCH_ROUNDS, default 5). It prints
 * medians with min-max, each tool's ratio to rigger, and rigger's ratio to the floors: the SSH floor
 * (Node, ssh2 connect and one exec per host) and the `npx tsx` floor (the same command on an empty
 * script). Ansible comes from Debian's package and pyinfra from PyPI into a virtualenv, installed
 * here when missing. It takes over the testbed (fresh hosts) and leaves it running.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { $ } from "zx";
import { SshConnection } from "../../src/connection/ssh.js";
import { testInventory } from "../helpers/rigger.js";
import { loadTestbed, type Testbed } from "../testbed/testbed.js";

const COUNTS = (process.env.BENCH_HOSTS ?? "1,3,10").split(",").map(Number);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const VENV = "/var/cache/rigger-bench/venv";
const WORKLOAD = "test/bench/workload";
const quiet = $({ quiet: true });

/** Each tool's command for these hosts, and the template its drift edits. */
interface Tool {
  name: string;
  command: (hosts: string[]) => string[];
  drifted: string;
}

async function installTools(): Promise<void> {
  if ((await $({ nothrow: true, quiet: true })`ansible-playbook --version`).exitCode !== 0) {
    console.log("installing Ansible (Debian's package)");
    await quiet`env DEBIAN_FRONTEND=noninteractive apt-get install -y -q ansible`;
  }
  if ((await $({ nothrow: true, quiet: true })`${VENV}/bin/pyinfra --version`).exitCode !== 0) {
    console.log("installing pyinfra (PyPI, into a virtualenv)");
    await quiet`python3 -m venv ${VENV}`;
    await quiet`${VENV}/bin/pip install -q pyinfra`;
  }
}

function tools(testbed: Testbed, dir: string): Tool[] {
  const ip = (name: string) => testbed.hosts.find((h) => h.name === name)!.ip;
  const riggerInventory = testInventory({}, testbed.hosts.map((h) => h.name));
  const sshArgs = `-o UserKnownHostsFile=${testbed.knownHostsFile} -o StrictHostKeyChecking=yes`;
  writeFileSync(join(dir, "ansible.cfg"), `[defaults]\nforks = 50\nstdout_callback = default\n[ssh_connection]\npipelining = True\nssh_args = -o ControlMaster=auto -o ControlPersist=60s ${sshArgs}\n`);
  writeFileSync(
    join(dir, "ansible-hosts.ini"),
    ["[all]", ...testbed.hosts.map((h) => `${h.name} ansible_host=${h.ip}`), "[all:vars]", `ansible_user=root`, `ansible_ssh_private_key_file=${testbed.keyFile}`, ""].join("\n"),
  );
  const pyinfraInventory = (hosts: string[]) => {
    const file = join(dir, `pyinfra-${hosts.length}.py`);
    const data = `{"ssh_user": "root", "ssh_key": "${testbed.keyFile}", "ssh_known_hosts_file": "${testbed.knownHostsFile}", "ssh_strict_host_key_checking": "yes"}`;
    writeFileSync(file, `hosts = [${hosts.map((h) => `("${ip(h)}", ${data})`).join(", ")}]\n`);
    return file;
  };
  const rigger = (entry: string[]) => (hosts: string[]) => [...entry, "test/bench/workload/rigger.ts", "-i", riggerInventory, "--limit", hosts.join(",")];
  return [
    { name: "rigger (npx tsx run)", command: rigger(["npx", "tsx", "run"]), drifted: "/srv/bench-rigger/conf/app1.conf" },
    { name: "rigger (bin/rigger.mjs)", command: rigger(["node", "bin/rigger.mjs"]), drifted: "/srv/bench-rigger/conf/app2.conf" },
    { name: "pyinfra", command: (hosts) => ["sh", "-c", `cd ${WORKLOAD} && ${VENV}/bin/pyinfra -y ${pyinfraInventory(hosts)} pyinfra_deploy.py`], drifted: "/srv/bench-pyinfra/conf/app1.conf" },
    {
      name: "ansible",
      command: (hosts) => ["env", `ANSIBLE_CONFIG=${join(dir, "ansible.cfg")}`, "ansible-playbook", "-i", join(dir, "ansible-hosts.ini"), "--limit", hosts.join(","), `${WORKLOAD}/ansible.yml`],
      drifted: "/srv/bench-ansible/conf/app1.conf",
    },
  ];
}

async function seconds(command: string[]): Promise<number> {
  const started = process.hrtime.bigint();
  const run = await $({ nothrow: true, quiet: true })`${command}`;
  if (run.exitCode !== 0) throw new Error(`${command.join(" ")} failed (exit ${run.exitCode}):\n${run.stdout.slice(-2000)}${run.stderr.slice(-2000)}`);
  return Number(process.hrtime.bigint() - started) / 1e9;
}

interface Stats {
  median: number;
  min: number;
  max: number;
}
const stats = (values: number[]): Stats => {
  const sorted = [...values].sort((a, b) => a - b);
  return { median: sorted[Math.floor(sorted.length / 2)]!, min: sorted[0]!, max: sorted.at(-1)! };
};
const shown = (s: Stats) => `${s.median.toFixed(2)} (${s.min.toFixed(2)}-${s.max.toFixed(2)})`;

await installTools();
const largest = Math.max(...COUNTS);
console.log(`fresh test hosts: ${largest}`);
await quiet`bash test/testbed/hosts.sh up ${largest}`;
const testbed = loadTestbed();
const dir = mkdtempSync("/tmp/rigger-bench-");
const all = tools(testbed, dir);
const names = testbed.hosts.map((h) => h.name);
const connections = await Promise.all(names.map((name) => SshConnection.open(testbed.target(name))));
const empty = join(dir, "empty.mjs");
writeFileSync(empty, "");

console.log("first runs (converging, not timed)");
for (const tool of all) await seconds(tool.command(names));

for (const count of COUNTS) {
  const hosts = names.slice(0, count);
  const times = new Map(all.map((tool) => [tool.name, { quiet: [] as number[], drift: [] as number[] }]));
  const sshFloor: number[] = [];
  const tsxFloor: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    sshFloor.push(await seconds(["node", "test/bench/floor.mjs", testbed.keyFile, ...hosts.map((h) => testbed.hosts.find((t) => t.name === h)!.ip)]));
    tsxFloor.push(await seconds(["npx", "tsx", empty]));
    for (const tool of all) times.get(tool.name)!.quiet.push(await seconds(tool.command(hosts)));
    for (const tool of all) {
      await Promise.all(connections.slice(0, count).map((c) => c.exec(`echo '# drift' >> ${tool.drifted}`)));
      times.get(tool.name)!.drift.push(await seconds(tool.command(hosts)));
    }
  }
  const rigger = stats(times.get(all[0]!.name)!.quiet);
  const fast = stats(times.get(all[1]!.name)!.quiet);
  const ssh = stats(sshFloor);
  const tsx = stats(tsxFloor);
  const block = [`\n${count} host${count > 1 ? "s" : ""}: seconds, median (min-max) of ${ROUNDS}`];
  block.push(`${"tool".padEnd(24)} ${"no change".padEnd(20)} ${"one drifted file".padEnd(20)} no change / rigger`);
  for (const tool of all) {
    const t = times.get(tool.name)!;
    block.push(`${tool.name.padEnd(24)} ${shown(stats(t.quiet)).padEnd(20)} ${shown(stats(t.drift)).padEnd(20)} ${(stats(t.quiet).median / rigger.median).toFixed(2)}`);
  }
  block.push(`${"SSH floor".padEnd(24)} ${shown(ssh)}`);
  block.push(`${"npx tsx floor".padEnd(24)} ${shown(tsx)}`);
  block.push(
    `rigger (npx tsx run) / (npx tsx floor + SSH floor) = ${(rigger.median / (tsx.median + ssh.median)).toFixed(2)}; ` +
      `rigger (bin) / SSH floor = ${(fast.median / ssh.median).toFixed(2)}`,
  );
  console.log(block.join("\n"));
}
connections.forEach((c) => c.close());
console.log(`\nmachine: ${cpus().length} x ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Node ${process.version}; ${(await quiet`ansible --version`).stdout.split("\n")[0]}; pyinfra ${(await quiet`${VENV}/bin/pyinfra --version`).stdout.trim()}`);
