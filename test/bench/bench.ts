/**
 * `npm run bench`: the benchmark workload (3 packages, 3 directories, 10 templates, 2 copied
 * files, 2 unit files and their services, a handler, a sysctl, a guarded command; test/bench/workload/)
 * done by rigger, Ansible and pyinfra on the same fresh test hosts: 1, 3 and 10 hosts
 * (`--hosts 1,3,10,30`), a run with nothing to change and a run after one template drifted on
 * every host, the tools interleaved round by round (BENCH_ROUNDS, default 5; BENCH_ANSIBLE_ROUNDS
 * for Ansible alone), every tool with the same forks (BENCH_FORKS, default 10). With `--light`, on
 * light hosts (sshd alone, up to 150) and the scale workload, which such hosts can run (no services,
 * packages only checked, the sysctl only read). It prints medians with min-max, each tool's first
 * converge, each tool's ratio to rigger, rigger's peak memory and open file descriptors, and rigger's
 * ratio to the floors: the SSH floor (Node, ssh2 connect and one exec per host) and the `npx tsx`
 * floor (the same command on an empty script). Then, unless `--light` or `--participants 0`, the
 * participants a host holds (test/bench/participants.ts: rooms of 4, 8 and 12 browsers by default,
 * `--participants 4,8`), with LiveKit's CPU and memory. Ansible comes from Debian's package and pyinfra from
 * PyPI into a virtualenv, installed here when missing. It takes over the testbed and leaves it running.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { $ } from "zx";
import { SshConnection } from "../../src/connection/ssh.js";
import { testInventory } from "../helpers/rigger.js";
import { lightInventoryFile, loadTestbed, type Testbed } from "../testbed/testbed.js";
import { participantRows } from "./participants.js";

const { values: flags } = parseArgs({
  options: {
    hosts: { type: "string" },
    light: { type: "boolean", default: false },
    participants: { type: "string", default: "4,8,12" },
  },
});
const COUNTS = (flags.hosts ?? process.env.BENCH_HOSTS ?? "1,3,10").split(",").map(Number);
const LIGHT = flags.light;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 5);
const ANSIBLE_ROUNDS = Number(process.env.BENCH_ANSIBLE_ROUNDS ?? ROUNDS);
const FORKS = Number(process.env.BENCH_FORKS ?? 10);
const VENV = "/var/cache/rigger-bench/venv";
const WORKLOAD = "test/bench/workload";
/** Each tool's playbook, and where its files go. */
const WORK = LIGHT
  ? { rigger: "scale.ts", ansible: "scale.yml", pyinfra: "scale_deploy.py", root: "/srv/scale" }
  : { rigger: "rigger.ts", ansible: "ansible.yml", pyinfra: "pyinfra_deploy.py", root: "/srv/bench" };
const quiet = $({ quiet: true });

/** Each tool's command for these hosts, and the template its drift edits. */
interface Tool {
  name: string;
  command: (hosts: string[]) => string[];
  drifted: string;
  /** Measure the process's peak memory and open descriptors (rigger's own process). */
  sampled?: boolean;
  rounds: number;
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
  const riggerInventory = LIGHT
    ? lightInventoryFile
    : testInventory(
        {},
        testbed.hosts.map((h) => h.name),
      );
  const sshArgs = `-o UserKnownHostsFile=${testbed.knownHostsFile} -o StrictHostKeyChecking=yes`;
  writeFileSync(
    join(dir, "ansible.cfg"),
    `[defaults]\nforks = ${FORKS}\nstdout_callback = default\n[ssh_connection]\npipelining = True\nssh_args = -o ControlMaster=auto -o ControlPersist=60s ${sshArgs}\n`,
  );
  writeFileSync(
    join(dir, "ansible-hosts.ini"),
    [
      "[all]",
      ...testbed.hosts.map((h) => `${h.name} ansible_host=${h.ip}`),
      "[all:vars]",
      `ansible_user=root`,
      `ansible_ssh_private_key_file=${testbed.keyFile}`,
      "",
    ].join("\n"),
  );
  const pyinfraInventory = (hosts: string[]) => {
    const file = join(dir, `pyinfra-${hosts.length}.py`);
    const data = `{"ssh_user": "root", "ssh_key": "${testbed.keyFile}", "ssh_known_hosts_file": "${testbed.knownHostsFile}", "ssh_strict_host_key_checking": "yes"}`;
    writeFileSync(file, `hosts = [${hosts.map((h) => `("${ip(h)}", ${data})`).join(", ")}]\n`);
    return file;
  };
  const rigger = (entry: string[]) => (hosts: string[]) => [
    ...entry,
    `${WORKLOAD}/${WORK.rigger}`,
    "-i",
    riggerInventory,
    "--limit",
    hosts.join(","),
    "-f",
    String(FORKS),
  ];
  return [
    {
      name: "rigger (npx tsx run)",
      command: rigger(["npx", "tsx", "run"]),
      drifted: `${WORK.root}-rigger/conf/app1.conf`,
      rounds: ROUNDS,
    },
    {
      name: "rigger (bin/rigger.mjs)",
      command: rigger(["node", "bin/rigger.mjs"]),
      drifted: `${WORK.root}-rigger/conf/app2.conf`,
      sampled: true,
      rounds: ROUNDS,
    },
    {
      name: "pyinfra",
      command: (hosts) => [
        "sh",
        "-c",
        `cd ${WORKLOAD} && ${VENV}/bin/pyinfra -y --parallel ${FORKS} ${pyinfraInventory(hosts)} ${WORK.pyinfra}`,
      ],
      drifted: `${WORK.root}-pyinfra/conf/app1.conf`,
      rounds: ROUNDS,
    },
    {
      name: "ansible",
      command: (hosts) => [
        "env",
        `ANSIBLE_CONFIG=${join(dir, "ansible.cfg")}`,
        "ansible-playbook",
        "-i",
        join(dir, "ansible-hosts.ini"),
        "--limit",
        hosts.join(","),
        `${WORKLOAD}/${WORK.ansible}`,
      ],
      drifted: `${WORK.root}-ansible/conf/app1.conf`,
      rounds: ANSIBLE_ROUNDS,
    },
  ];
}

interface Sample {
  seconds: number;
  /** Peak resident memory (VmHWM) in MB and peak open file descriptors, for a sampled process. */
  rssMb?: number;
  fds?: number;
}

/** Runs a command to its end and times it; a sampled one has its memory and descriptors read every 10 ms. */
async function measured(command: string[], sampled = false): Promise<Sample> {
  const started = process.hrtime.bigint();
  const child = spawn(command[0]!, command.slice(1), { stdio: ["ignore", "pipe", "pipe"] });
  let output = "";
  child.stdout.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  child.stderr.on("data", (chunk: Buffer) => (output = (output + chunk.toString()).slice(-4000)));
  const sample: Omit<Sample, "seconds"> = sampled ? { rssMb: 0, fds: 0 } : {};
  const timer = sampled
    ? setInterval(() => {
        try {
          const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, "utf8"));
          sample.rssMb = Math.max(sample.rssMb!, Number(hwm?.[1] ?? 0) / 1024);
          sample.fds = Math.max(sample.fds!, readdirSync(`/proc/${child.pid}/fd`).length);
        } catch {
          // The process has just ended.
        }
      }, 10)
    : undefined;
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  clearInterval(timer);
  if (code !== 0) throw new Error(`${command.join(" ")} failed (exit ${code}):\n${output}`);
  return { seconds: Number(process.hrtime.bigint() - started) / 1e9, ...sample };
}

const seconds = async (command: string[]) => (await measured(command)).seconds;

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
console.log(
  `fresh test hosts: ${largest}${LIGHT ? " light (sshd alone), the scale workload" : ""}; forks ${FORKS} for every tool`,
);
await quiet`bash test/testbed/hosts.sh up ${LIGHT ? [String(largest), "--light"] : [String(largest)]}`;
const testbed = LIGHT ? loadTestbed(lightInventoryFile) : loadTestbed();
const dir = mkdtempSync("/tmp/rigger-bench-");
const all = tools(testbed, dir);
const names = testbed.hosts.map((h) => h.name);
const connections = await Promise.all(names.map((name) => SshConnection.open(testbed.target(name))));
const empty = join(dir, "empty.mjs");
writeFileSync(empty, "");

console.log(`first converge of ${largest} hosts, each tool in turn`);
const firstConverge = new Map<string, number>();
for (const tool of all) firstConverge.set(tool.name, await seconds(tool.command(names)));

for (const count of COUNTS) {
  const hosts = names.slice(0, count);
  const times = new Map(all.map((tool) => [tool.name, { quiet: [] as number[], drift: [] as number[] }]));
  const memory = { rssMb: 0, fds: 0 };
  const sshFloor: number[] = [];
  const tsxFloor: number[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    const inRound = all.filter((tool) => round < tool.rounds);
    sshFloor.push(
      await seconds([
        "node",
        "test/bench/floor.mjs",
        testbed.keyFile,
        ...hosts.map((h) => testbed.hosts.find((t) => t.name === h)!.ip),
      ]),
    );
    tsxFloor.push(await seconds(["npx", "tsx", empty]));
    for (const tool of inRound) {
      const run = await measured(tool.command(hosts), tool.sampled);
      times.get(tool.name)!.quiet.push(run.seconds);
      memory.rssMb = Math.max(memory.rssMb, run.rssMb ?? 0);
      memory.fds = Math.max(memory.fds, run.fds ?? 0);
    }
    for (const tool of inRound) {
      await Promise.all(connections.slice(0, count).map((c) => c.exec(`echo '# drift' >> ${tool.drifted}`)));
      times.get(tool.name)!.drift.push(await seconds(tool.command(hosts)));
    }
  }
  const rigger = stats(times.get(all[0]!.name)!.quiet);
  const fast = stats(times.get(all[1]!.name)!.quiet);
  const ssh = stats(sshFloor);
  const tsx = stats(tsxFloor);
  const block = [
    `\n${count} host${count > 1 ? "s" : ""}${LIGHT ? " (light)" : ""}: seconds, median (min-max) of ${ROUNDS} rounds (Ansible ${Math.min(ANSIBLE_ROUNDS, ROUNDS)}), forks ${FORKS}`,
  ];
  block.push(
    `${"tool".padEnd(24)} ${"no change".padEnd(20)} ${"one drifted file".padEnd(20)} no change / rigger (bin)`,
  );
  for (const tool of all) {
    const t = times.get(tool.name)!;
    block.push(
      `${tool.name.padEnd(24)} ${shown(stats(t.quiet)).padEnd(20)} ${shown(stats(t.drift)).padEnd(20)} ${(stats(t.quiet).median / fast.median).toFixed(2)}`,
    );
  }
  block.push(`${"SSH floor".padEnd(24)} ${shown(ssh)}`);
  block.push(`${"npx tsx floor".padEnd(24)} ${shown(tsx)}`);
  block.push(
    `rigger (npx tsx run) / (npx tsx floor + SSH floor) = ${(rigger.median / (tsx.median + ssh.median)).toFixed(2)}; ` +
      `rigger (bin) / SSH floor = ${(fast.median / ssh.median).toFixed(2)}; rigger (bin) at most ${memory.rssMb.toFixed(0)} MB resident, ${memory.fds} open descriptors`,
  );
  console.log(block.join("\n"));
}
console.log(
  `\nfirst converge of ${largest} hosts, seconds: ${all.map((tool) => `${tool.name} ${firstConverge.get(tool.name)!.toFixed(2)}`).join("; ")} (rigger's npx form ran first)`,
);
connections.forEach((c) => c.close());
const participantCounts = flags.participants.split(",").map(Number).filter(Boolean);
if (!LIGHT && participantCounts.length) console.log((await participantRows(participantCounts)).join("\n"));
console.log(
  `\nmachine: ${cpus().length} x ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB; Node ${process.version}; ${(await quiet`ansible --version`).stdout.split("\n")[0]}; pyinfra ${(await quiet`${VENV}/bin/pyinfra --version`).stdout.trim()}`,
);
