/**
 * The real-host suites' view of the test hosts started by hosts.sh: where they are, how to reach
 * them, and faults on demand.
 */
import { existsSync, readFileSync } from "node:fs";
import { createConnection, createServer, type Socket } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { $ } from "zx";
import { beforeAll, describe } from "vitest";
import { linkSettings, sshTarget } from "../../src/cli/targets.js";
import type { SshTarget } from "../../src/connection/ssh.js";
import { connectionVars } from "../../src/inventory/connection-vars.js";
import { loadInventory } from "../../src/inventory/load.js";

const here = fileURLToPath(new URL(".", import.meta.url));
const stateDir = process.env.TESTBED_STATE ?? join(here, ".state");
export const inventoryFile = join(stateDir, "inventory", "hosts.yaml");

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
export function loadTestbed(): Testbed {
  if (!existsSync(inventoryFile)) {
    throw new Error(
      `the testbed is not running: ${inventoryFile} does not exist. Start it with ` +
        "`npm run testbed:up` (root on Debian/Ubuntu), or set RIGGER_SKIP_HOSTS=1 to skip the real-host suites.",
    );
  }
  const inventory = loadInventory(inventoryFile);
  const settings = new Map([...inventory.hosts.values()].map((host) => [host.name, connectionVars(host)]));
  const hosts = [...settings].map(([name, vars]) => ({ name, ip: vars.ansible_host! }));
  const target = (name: string): SshTarget => {
    const vars = settings.get(name);
    if (!vars) throw new Error(`no test host named ${name}; the testbed has ${hosts.map((h) => h.name).join(", ")}`);
    return sshTarget(name, vars, [], { knownHostsFile: vars.rigger_known_hosts_file, ...linkSettings(vars, undefined) });
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

/** The service roles' image variables for the images images.sh built and pushed (a YAML snippet). */
export function serviceImages(): string {
  const file = join(cacheDir, "service-images.yaml");
  if (!existsSync(file)) throw new Error(`no ${file}: build the service images with \`bash test/testbed/images.sh\` (npm test does)`);
  return readFileSync(file, "utf8");
}
