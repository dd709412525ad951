/**
 * The real-host suites' view of the test hosts started by hosts.sh: where they are, how to reach
 * them, and faults on demand.
 */
import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createConnection, createServer, type Socket } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { $ } from "zx";
import { beforeAll, describe } from "vitest";
import { linkSettings, directTarget } from "../../src/cli/targets.js";
import type { SshTarget } from "../../src/connection/ssh-target.js";
import { connectionVars } from "../../src/inventory/connection-vars.js";
import { parse, stringify } from "yaml";
import { loadInventory } from "../../src/inventory/load.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const stateDir = process.env.TESTBED_STATE ?? join(here, ".state");
export const inventoryFile = join(stateDir, "inventory", "hosts.yaml");
/** The light hosts' inventory (`hosts.sh up N --light`): sshd alone, for runs at scale. */
export const lightInventoryFile = join(stateDir, "light", "hosts.yaml");

export interface TestHost {
  name: string;
  ip: string;
}

export interface Testbed {
  hosts: TestHost[];
  keyFile: string;
  knownHostsFile: string;
  /** Connection settings for a host, strict host key checking included. */
  target(name: string): SshTarget;
}

/** Reads the inventory hosts.sh wrote, with the project's own inventory loader and target resolution. */
export function loadTestbed(file = inventoryFile): Testbed {
  if (!existsSync(file)) {
    throw new Error(
      `the testbed is not running: ${file} does not exist. Start it with ` +
        "`npm run testbed:up` (root on Debian/Ubuntu), or set RIGGER_SKIP_HOSTS=1 to skip the real-host suites.",
    );
  }
  const inventory = loadInventory(file);
  const settings = new Map([...inventory.hosts.values()].map((host) => [host.name, connectionVars(host)]));
  const hosts = [...settings].map(([name, vars]) => ({ name, ip: vars.ansible_host! }));
  const target = (name: string): SshTarget => {
    const vars = settings.get(name);
    if (!vars) throw new Error(`no test host named ${name}; the testbed has ${hosts.map((h) => h.name).join(", ")}`);
    return directTarget(
      name,
      vars,
      {},
      { knownHostsFile: vars.rigger_known_hosts_file, ...linkSettings(vars, undefined) },
    );
  };
  const any = settings.values().next().value!;
  return { hosts, keyFile: any.ansible_ssh_private_key_file!, knownHostsFile: any.rigger_known_hosts_file, target };
}

/**
 * A suite that needs the test hosts. Without them every test in it fails with the reason; only an
 * explicit RIGGER_SKIP_HOSTS=1 (which CI never sets) skips it.
 */
export function describeHosts(title: string, body: (testbed: () => Testbed) => void): void {
  if (process.env.RIGGER_SKIP_HOSTS === "1") {
    describe.skip(`${title} (skipped: RIGGER_SKIP_HOSTS=1)`, () => body(() => loadTestbed()));
    return;
  }
  describe(title, () => {
    let testbed: Testbed | undefined;
    beforeAll(() => {
      testbed = loadTestbed();
    });
    body(() => testbed!);
  });
}

const faultScript = join(here, "fault.sh");
$.quiet = true;

export const fault = {
  stop: (host: string) => $`bash ${faultScript} stop ${host}`,
  start: (host: string) => $`bash ${faultScript} start ${host}`,
  cut: (host: string) => $`bash ${faultScript} cut ${host}`,
  restore: (host: string) => $`bash ${faultScript} restore ${host}`,
  loss: (host: string, percent: number) => $`bash ${faultScript} loss ${host} ${percent}`,
  clear: (host: string) => $`bash ${faultScript} clear ${host}`,
};

/** An image built here FROM a service image (a Dockerfile) and pushed to the registry: a test's upgrade. */
export function pushDerivedImage(ref: string, dockerfile: string): string {
  execFileSync("docker", ["build", "--quiet", "-t", ref, "-"], {
    input: dockerfile,
    stdio: ["pipe", "ignore", "inherit"],
  });
  execFileSync("docker", ["push", "--quiet", ref], { stdio: ["ignore", "ignore", "inherit"] });
  return ref;
}

/** Builds a small busybox image here and pushes it to the local registry; returns what hosts pull. */
export async function pushTestImage(nameAndTag: string): Promise<string> {
  return (await $`bash ${join(here, "image.sh")} ${nameAndTag}`).stdout.trim();
}

export interface LatencyRelay {
  port: number;
  close(): Promise<void>;
}

/**
 * A TCP relay on 127.0.0.1 that delays every chunk by `delayMs` each way. This kernel has no netem
 * qdisc, so latency is added here, on the controller's side of the link.
 */
export async function latencyRelay(host: string, port: number, delayMs: number): Promise<LatencyRelay> {
  const sockets = new Set<Socket>();
  const delayed = (from: Socket, to: Socket) => {
    from.on("data", (chunk) => setTimeout(() => to.write(chunk), delayMs));
    from.on("end", () => setTimeout(() => to.end(), delayMs));
    from.on("error", () => to.destroy());
  };
  const server = createServer((client) => {
    const upstream = createConnection({ host, port });
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
    }
    delayed(client, upstream);
    delayed(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  if (address === null || typeof address === "string") throw new Error("the relay has no TCP address");
  return {
    port: address.port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

const cacheDir = process.env.TESTBED_CACHE ?? "/var/cache/rigger-testbed";

/** A file images.sh keeps in the testbed's cache (a binary built from a Go module). */
export const testbedCache = (name: string) => join(cacheDir, name);

/** The service roles' image variables for the images images.sh built and pushed (a YAML snippet). */
export function serviceImages(): string {
  const file = join(cacheDir, "service-images.yaml");
  if (!existsSync(file))
    throw new Error(`no ${file}: build the service images with \`bash test/testbed/images.sh\` (npm test does)`);
  return readFileSync(file, "utf8");
}

const TOXIPROXY_API = "http://127.0.0.1:8474";

/** A toxic of Toxiproxy's: upstream is the controller's side sending to the host, downstream the host's answers. */
export interface Toxic {
  type: "latency" | "bandwidth" | "timeout" | "limit_data" | "reset_peer" | "slow_close" | "slicer";
  stream: "upstream" | "downstream";
  attributes: Record<string, number>;
}

async function toxiproxyApi(method: string, path: string, body?: unknown): Promise<unknown> {
  const response = await fetch(`${TOXIPROXY_API}${path}`, {
    method,
    ...(body ? { body: JSON.stringify(body), headers: { "content-type": "application/json" } } : {}),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`Toxiproxy ${method} ${path}: ${response.status} ${text}`);
  return text ? JSON.parse(text) : undefined;
}

/**
 * The faulty-network layer (toxiproxy.sh): each test host's SSH port relayed at
 * 127.0.0.1:22000+N through Toxiproxy, whose toxics a test adds and removes.
 */
export const toxiproxy = {
  port: (host: string) => 22000 + Number(host.replace(/^th/, "")),
  /** Adds a toxic to the host's proxy; returns its name, for remove. */
  async add(host: string, toxic: Toxic): Promise<string> {
    const name = `${toxic.type}-${toxic.stream}-${Math.random().toString(36).slice(2, 8)}`;
    await toxiproxyApi("POST", `/proxies/${host}-ssh/toxics`, { name, ...toxic, toxicity: 1 });
    return name;
  },
  remove: (host: string, name: string) => toxiproxyApi("DELETE", `/proxies/${host}-ssh/toxics/${name}`),
  /** Every proxy enabled and every toxic gone. */
  reset: () => toxiproxyApi("POST", "/reset"),
};

/**
 * Points an inventory's host at its Toxiproxy proxy: 127.0.0.1 on another port (as a port-forward
 * or NAT would), its host key recorded for that address in a known_hosts of the inventory's own.
 */
export function throughToxiproxy(testbed: Testbed, inventoryDir: string, host: string): void {
  const file = join(inventoryDir, "hosts.yaml");
  const inventory = parse(readFileSync(file, "utf8"));
  const ip = testbed.hosts.find((h) => h.name === host)!.ip;
  const entry = (function find(group: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
    const hosts = (group?.hosts ?? {}) as Record<string, Record<string, unknown> | null>;
    if (host in hosts) return (hosts[host] ??= {});
    for (const child of Object.values((group?.children ?? {}) as Record<string, Record<string, unknown>>)) {
      const found = find(child);
      if (found) return found;
    }
    return undefined;
  })(inventory.all);
  if (!entry) throw new Error(`${host} is not in ${file}`);
  const port = toxiproxy.port(host);
  const key = readFileSync(testbed.knownHostsFile, "utf8")
    .split("\n")
    .find((line) => line.startsWith(`${ip} `));
  if (!key) throw new Error(`no host key of ${ip} in ${testbed.knownHostsFile}`);
  const knownHosts = join(inventoryDir, "known_hosts");
  writeFileSync(knownHosts, `${key.replace(ip, `[127.0.0.1]:${port}`)}\n${key}\n`);
  Object.assign(entry, { ansible_host: "127.0.0.1", ansible_port: port, rigger_known_hosts_file: knownHosts });
  writeFileSync(file, stringify(inventory));
}

/** This machine, as the test hosts reach it. */
export const GATEWAY = "172.30.0.1";
const PEBBLE_DIR = join(cacheDir, "pebble");

/**
 * The testbed's ACME server (pebble.sh): Pebble's directory, the root of its own HTTPS certificate
 * (what Caddy is told to trust), the root it issues under, and the DNS answers it validates by.
 */
export const pebble = {
  directory: `https://${GATEWAY}:14000/dir`,
  directoryRoot: () => readFileSync(join(PEBBLE_DIR, "ca.pem"), "utf8"),
  /** The root of the certificates Pebble issues: made anew at each start, served on its management port. */
  async issuerRoot(): Promise<string> {
    const result = await $`curl -sSf --cacert ${join(PEBBLE_DIR, "ca.pem")} ${`https://${GATEWAY}:15000/roots/0`}`;
    return result.stdout;
  },
  /** Makes Pebble resolve each name to the address alone (its challenge test server's DNS adds to what an earlier suite set: cleared first). */
  async resolve(names: string[], address: string): Promise<void> {
    const call = async (path: string, body: unknown) => {
      const response = await fetch(`http://${GATEWAY}:8055/${path}`, { method: "POST", body: JSON.stringify(body) });
      if (!response.ok) throw new Error(`pebble-challtestsrv ${path}: ${response.status} ${await response.text()}`);
    };
    for (const host of names) {
      await call("clear-a", { host });
      await call("add-a", { host, addresses: [address] });
    }
  },
};
