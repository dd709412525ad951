/**
 * Calls from a real browser: Chromium (the distribution's, never a downloaded one) driven by
 * playwright-core, on Element Call's page of the deployment, running ./call-page.ts bundled with
 * livekit-client by esbuild. The browser trusts the deployment's CA, when it is not a public one,
 * as a user's browser would: imported into its own certificate store (NSS), no check switched off.
 * playwright-core and esbuild are loaded on first use: a run without a browser call never reads them.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser } from "playwright-core";
import type { CallParams, CallResult } from "./call-page.js";

export type { CallParams, CallResult };

/** call-page.ts for the browser, once per process. */
let bundle: Promise<string> | undefined;
const pageScript = () =>
  (bundle ??= import("esbuild").then(({ build }) =>
    build({
      entryPoints: [fileURLToPath(new URL("./call-page.ts", import.meta.url))],
      bundle: true,
      format: "iife",
      globalName: "rigger",
      platform: "browser",
      target: "chrome120",
      write: false,
      logLevel: "warning",
    }).then((result) => result.outputFiles[0]!.text),
  ));

/** Flags for a browser on a machine that makes no calls home. */
export const QUIET_ARGS = [
  "--disable-background-networking",
  "--disable-component-update",
  // Chromium refuses its sandbox to root.
  ...(process.getuid?.() === 0 ? ["--no-sandbox"] : []),
];

export interface BrowserOptions {
  /** The Chromium to run (Debian's /usr/bin/chromium). */
  executable: string;
  /** A root (PEM) to trust besides the public ones: the one that signs the deployment's certificates. */
  caPem?: string;
}

/** A Chromium in a home of its own (its certificate store there), with a fake microphone and camera. */
export async function launchBrowser(options: BrowserOptions): Promise<Browser> {
  if (!existsSync(options.executable))
    throw new Error(
      `no Chromium at ${options.executable}: install the distribution's (apt install chromium libnss3-tools) or set call_probe_chromium`,
    );
  const home = mkdtempSync(join(tmpdir(), "rigger-browser-"));
  try {
    if (options.caPem) trust(home, options.caPem);
    const { chromium } = await import("playwright-core");
    const browser = await chromium.launch({
      executablePath: options.executable,
      env: { ...process.env, HOME: home },
      args: [
        // A microphone and camera that need no device and no one to allow them.
        "--use-fake-device-for-media-stream",
        "--use-fake-ui-for-media-stream",
        ...QUIET_ARGS,
      ],
    });
    browser.on("disconnected", () => rmSync(home, { recursive: true, force: true }));
    return browser;
  } catch (error) {
    rmSync(home, { recursive: true, force: true });
    throw error;
  }
}

/** The root imported into the NSS store Chromium reads in `home`, as a trusted CA. */
function trust(home: string, caPem: string): void {
  const nssdb = join(home, ".pki", "nssdb");
  mkdirSync(nssdb, { recursive: true });
  writeFileSync(join(home, "ca.pem"), caPem);
  const certutil = (...args: string[]) => execFileSync("certutil", [...args, "-d", `sql:${nssdb}`], { stdio: "pipe" });
  try {
    certutil("-N", "--empty-password");
    certutil("-A", "-n", "deployment-ca", "-t", "C,,", "-i", join(home, "ca.pem"));
  } catch (error) {
    throw new Error(
      `the browser cannot be made to trust the deployment's CA (certutil, of libnss3-tools): ${(error as Error).message.split("\n")[0]}`,
    );
  }
}

/** What a participant may take besides the call held: joining, everyone's streams arriving, the others' measuring (30 s at most). */
const JOIN_SECONDS = 90;

/** One participant: a page at https://<origin>/ (Element Call's), where the call is made. */
export async function browserParticipant(browser: Browser, origin: string, params: CallParams): Promise<CallResult> {
  // The call code is ours, injected where Element Call's app would run: its page's policy is not what is tested.
  const context = await browser.newContext({ bypassCSP: true });
  try {
    const page = await context.newPage();
    await page.goto(`https://${origin}/`);
    await page.addScriptTag({ content: await pageScript() });
    const call = (page.evaluate((p) => (globalThis as any).rigger.riggerCall(p), params) as Promise<CallResult>).catch(
      (error: Error) => {
        throw new Error(`${params.user}: ${error.message.split("\n")[0]!.replace(/^page\.evaluate: (Error: )?/, "")}`);
      },
    );
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
