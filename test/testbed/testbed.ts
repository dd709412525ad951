/**
 * The real-host suites' view of the test hosts started by hosts.sh: where they are, how to reach
 * them, and faults on demand.
 */
import { readFileSync } from "node:fs";
import { createConnection, createServer, type Socket } from "node:net";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { parse } from "yaml";
import { $ } from "zx";
import { beforeAll, describe } from "vitest";
import type { SshTarget } from "../../src/connection/ssh.js";

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

interface WrittenInventory {
  all: {
    vars: { ansible_user: string; ansible_ssh_private_key_file: string; rigger_known_hosts_file: string };
    children: { testbed: { hosts: Record<string, { ansible_host: string }> } };
  };
}

export function loadTestbed(): Testbed {
  let text: string;
  try {
    text = readFileSync(inventoryFile, "utf8");
  } catch {
    throw new Error(
      `the testbed is not running: ${inventoryFile} does not exist. Start it with ` +
        "`npm run testbed:up` (root on Debian/Ubuntu), or set RIGGER_SKIP_HOSTS=1 to skip the real-host suites.",
    );
  }
  const { vars, children } = (parse(text) as WrittenInventory).all;
  const hosts = Object.entries(children.testbed.hosts).map(([name, v]) => ({ name, ip: v.ansible_host }));
  const target = (name: string): SshTarget => {
    const host = hosts.find((h) => h.name === name);
    if (!host) throw new Error(`no test host named ${name}; the testbed has ${hosts.map((h) => h.name).join(", ")}`);
    return {
      name,
      host: host.ip,
      port: 22,
      user: vars.ansible_user,
      privateKeyFile: vars.ansible_ssh_private_key_file,
      knownHostsFile: vars.rigger_known_hosts_file,
    };
  };
  return { hosts, keyFile: vars.ansible_ssh_private_key_file, knownHostsFile: vars.rigger_known_hosts_file, target };
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
