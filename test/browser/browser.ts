/**
 * Calls from a real browser: Debian's Chromium (never a downloaded one) driven by playwright-core,
 * on Element Call's page of the deployment, running test/browser/call-page.ts. The browser trusts
 * the deployment's CA as a user's browser would, imported into its certificate store (NSS), and
 * finds the deployment's names at the proxy host through a DNS server of its own (the testbed has none).
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { build } from "esbuild";
import { chromium, type Browser, type Page } from "playwright-core";
import type { CallParams, CallResult } from "./call-page.js";

export type { CallParams, CallResult };

const CHROMIUM = "/usr/bin/chromium";

/** call-page.ts for the browser, once per process. */
let bundle: Promise<string> | undefined;
const pageScript = () =>
  (bundle ??= build({
    entryPoints: [resolve(import.meta.dirname, "call-page.ts")],
    bundle: true,
    format: "iife",
    globalName: "rigger",
    platform: "browser",
    target: "chrome120",
    write: false,
    logLevel: "warning",
  }).then((result) => result.outputFiles[0]!.text));

export interface BrowserOptions {
  /** Where each of the deployment's names is found (the server name, matrix_host, livekit_host, turn_host, ...). */
  addresses: Record<string, string>;
  /** The root (PEM) that signs the deployment's certificates. */
  caPem: string;
}

/** Where the browser's DNS server listens: a loopback address of its own, beside any resolver of the machine's. */
const DNS = "127.0.0.2";

/**
 * A DNS server that answers the deployment's names (the testbed has none):
 * Debian's dnsmasq. Chromium needs a real one: WebRTC looks a UDP TURN server up past /etc/hosts
 * and past its own host-resolver rules.
 */
async function dnsServer(options: BrowserOptions): Promise<ChildProcess> {
  const dnsmasq = spawn(
    "dnsmasq",
    [
      "--keep-in-foreground",
      "--log-facility=-",
      "--no-resolv",
      "--no-hosts",
      `--listen-address=${DNS}`,
      "--bind-interfaces",
      "--port=53",
      ...Object.entries(options.addresses).map(([name, address]) => `--address=/${name}/${address}`),
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
function chromiumWithDns(home: string): string {
  const resolvConf = join(home, "resolv.conf");
  writeFileSync(resolvConf, `nameserver ${DNS}\n`);
  const wrapper = join(home, "chromium");
  writeFileSync(
    wrapper,
    `#!/bin/sh\nexec unshare --mount sh -c 'mount --bind "$0" /etc/resolv.conf && exec ${CHROMIUM} "$@"' ${resolvConf} "$@"\n`,
    { mode: 0o755 },
  );
  return wrapper;
}

const QUIET_ARGS = [
  // This machine's network is closed: no calls home.
  "--disable-background-networking",
  "--disable-component-update",
  // Chromium refuses its sandbox to root, which CI runs as.
  ...(process.getuid?.() === 0 ? ["--no-sandbox"] : []),
];

/** A page of this machine (a report) in Chromium, as its reader would open it; `close` ends the browser. */
export async function openFile(path: string): Promise<{ page: Page; close: () => Promise<void> }> {
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: QUIET_ARGS });
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(pathToFileURL(path).href);
  return { page, close: () => browser.close() };
}

/** A Chromium that trusts `caPem` through its own certificate store, in a home of its own. */
export async function launchBrowser(options: BrowserOptions): Promise<Browser> {
  const home = mkdtempSync(join(tmpdir(), "rigger-browser-"));
  const nssdb = join(home, ".pki", "nssdb");
  mkdirSync(nssdb, { recursive: true });
  writeFileSync(join(home, "ca.pem"), options.caPem);
  execFileSync("certutil", ["-N", "--empty-password", "-d", `sql:${nssdb}`]);
  execFileSync("certutil", [
    "-A",
    "-n",
    "rigger-test-ca",
    "-t",
    "C,,",
    "-i",
    join(home, "ca.pem"),
    "-d",
    `sql:${nssdb}`,
  ]);
  const dns = await dnsServer(options);
  const browser = await chromium.launch({
    executablePath: chromiumWithDns(home),
    env: { ...process.env, HOME: home },
    args: [
      // A microphone and camera that need no device and no one to allow them.
      "--use-fake-device-for-media-stream",
      "--use-fake-ui-for-media-stream",
      ...QUIET_ARGS,
    ],
  });
  browser.on("disconnected", () => {
    dns.kill();
    rmSync(home, { recursive: true, force: true });
  });
  return browser;
}

/** What a participant may take besides the call held: joining, everyone's streams arriving, the others' measuring (30 s at most). */
const JOIN_SECONDS = 90;

/** One participant: Element Call's page at https://<callHost>/, where the call is made. */
export async function browserParticipant(browser: Browser, callHost: string, params: CallParams): Promise<CallResult> {
  // The call code is ours, injected where Element Call's app would run: its page's policy is not what is tested.
  const context = await browser.newContext({ bypassCSP: true });
  try {
    const page = await context.newPage();
    await page.goto(`https://${callHost}/`);
    await page.addScriptTag({ content: await pageScript() });
    const call = page.evaluate((p) => (globalThis as any).rigger.riggerCall(p), params) as Promise<CallResult>;
    let timer: NodeJS.Timeout | undefined;
    const limit = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${params.user}: no call held within ${JOIN_SECONDS + params.seconds} s`)),
        (JOIN_SECONDS + params.seconds) * 1000,
      );
    });
    return await Promise.race([call, limit]).finally(() => clearTimeout(timer));
  } finally {
    await context.close();
  }
}
