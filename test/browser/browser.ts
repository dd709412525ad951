/**
 * Browsers for the tests: the call probe's Chromium (roles/call_probe/browser.ts) where the
 * deployment's names resolve through a DNS server of the test's own (the testbed has none), and a
 * page of this machine (a report) opened as its reader would.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { chromium, type Browser, type Page } from "playwright-core";
import { launchBrowser as launchChromium, QUIET_ARGS } from "../../roles/call_probe/browser.js";

export { browserParticipant, type CallParams, type CallResult } from "../../roles/call_probe/browser.js";

const CHROMIUM = "/usr/bin/chromium";

/** Where the test's DNS servers listen: loopback addresses of their own, beside any resolver of the machine's. */
export const NAMESERVERS = { browser: "127.0.0.2", verify: "127.0.0.3" };

/**
 * A DNS server that answers the deployment's names: Debian's dnsmasq. Chromium needs a real one:
 * WebRTC looks a UDP TURN server up past /etc/hosts and past its own host-resolver rules.
 */
export async function dnsServer(addresses: Record<string, string>, listen: string): Promise<ChildProcess> {
  const dnsmasq = spawn(
    "dnsmasq",
    [
      "--keep-in-foreground",
      "--log-facility=-",
      "--no-resolv",
      "--no-hosts",
      `--listen-address=${listen}`,
      "--bind-interfaces",
      "--port=53",
      ...Object.entries(addresses).map(([name, address]) => `--address=/${name}/${address}`),
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  await new Promise<void>((resolve, reject) => {
    dnsmasq.stderr!.on("data", (chunk: Buffer) => chunk.toString().includes("started") && resolve());
    dnsmasq.on("exit", (code) => reject(new Error(`dnsmasq exited ${code}`)));
  });
  return dnsmasq;
}

/** Chromium in a private mount namespace (root) whose /etc/resolv.conf names that server, as runWithNames does with /etc/hosts. */
function chromiumWithDns(dir: string): string {
  const resolvConf = join(dir, "resolv.conf");
  writeFileSync(resolvConf, `nameserver ${NAMESERVERS.browser}\n`);
  const wrapper = join(dir, "chromium");
  writeFileSync(
    wrapper,
    `#!/bin/sh\nexec unshare --mount sh -c 'mount --bind "$0" /etc/resolv.conf && exec ${CHROMIUM} "$@"' ${resolvConf} "$@"\n`,
    { mode: 0o755 },
  );
  return wrapper;
}

export interface BrowserOptions {
  /** Where each of the deployment's names is found (the server name, matrix_host, livekit_host, turn_host, ...). */
  addresses: Record<string, string>;
  /** The root (PEM) that signs the deployment's certificates. */
  caPem: string;
}

/** The call probe's Chromium, finding the deployment's names through the test's DNS server. */
export async function launchBrowser(options: BrowserOptions): Promise<Browser> {
  const dns = await dnsServer(options.addresses, NAMESERVERS.browser);
  const dir = mkdtempSync(join(tmpdir(), "rigger-dns-"));
  const cleanUp = () => {
    dns.kill();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const browser = await launchChromium({ executable: chromiumWithDns(dir), caPem: options.caPem });
    browser.on("disconnected", cleanUp);
    return browser;
  } catch (error) {
    cleanUp();
    throw error;
  }
}

/** A page of this machine (a report) in Chromium, as its reader would open it; `close` ends the browser. */
export async function openFile(path: string): Promise<{ page: Page; close: () => Promise<void> }> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: QUIET_ARGS });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(pathToFileURL(path).href);
  return { page, close: () => browser.close() };
}
