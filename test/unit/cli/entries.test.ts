/**
 * The built engine (dist/, as `npm ci` builds it) behind the fast entry bin/rigger.mjs and the
 * README's `npx tsx run` form: the same answers as the sources, playbooks and roles sharing the
 * engine's modules, role assets found beside their own files, the engine compiled from V8's code cache.
 */
import { createHash } from "node:crypto";
import {
  appendFileSync,
  copyFileSync,
  existsSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { execFileSync, spawn } from "node:child_process";
import { $ } from "zx";
import { beforeAll, expect, it, vi } from "vitest";
import { main } from "../../../src/cli/main.js";

async function fromSources(...args: string[]) {
  const out: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => out.push(l) });
  return { code, out: out.join("\n") };
}
const fast = async (...args: string[]) => {
  const run = await $({ nothrow: true })`node bin/rigger.mjs ${args}`;
  return { code: run.exitCode, out: (run.stdout + run.stderr).trimEnd() };
};
const npxForm = async (...args: string[]) => {
  const run = await $({ nothrow: true })`node_modules/.bin/tsx run.ts ${args}`;
  return { code: run.exitCode, out: (run.stdout + run.stderr).trimEnd() };
};

const inventory = mkdtempSync(join(tmpdir(), "rigger-entries-"));
writeFileSync(
  join(inventory, "hosts.yaml"),
  "all:\n  hosts:\n    h1: { ansible_host: 192.0.2.1, demo_api_token: entries-test-token-0123456789abcdef }\n",
);

beforeAll(async () => {
  await $`npm run build --silent`;
}, 60_000);

it("lists a playbook's tasks as the sources do, a role's template rendered from beside the role", async () => {
  // The demo role renders its unit file from roles/demo/templates/ while its tasks are built.
  const expected = await fromSources("playbooks/demo.ts", "-i", inventory, "--list-tasks");
  expect(expected.out).toContain("unit file demo-web.service");
  expect(await fast("playbooks/demo.ts", "-i", inventory, "--list-tasks")).toEqual(expected);
  expect(await npxForm("playbooks/demo.ts", "-i", inventory, "--list-tasks")).toEqual(expected);
  expect(await fast("playbooks/site.ts", "-i", "inventory/fleet", "--list-hosts")).toEqual(
    await fromSources("playbooks/site.ts", "-i", "inventory/fleet", "--list-hosts"),
  );
}, 30_000);

it("reports a role's refusal as a configuration error (exit 1): playbook and engine share one set of modules", async () => {
  const refused = await fast(
    "playbooks/site.ts",
    "-i",
    "inventory/fleet",
    "-e",
    "firewall_backend=ufw",
    "--list-hosts",
  );
  expect(refused.code).toBe(1);
  expect(refused.out).toContain(
    "rigger: configuration error: playbooks/site.ts: hs1: role firewall: firewall_backend ufw cannot open 6379/tcp",
  );
});

it("keeps V8's code cache of the built engine: written by a run without one, and a cache V8 refuses is replaced", async () => {
  const cache = "dist/engine.cjs.v8cache";
  const expected = await fromSources("playbooks/demo.ts", "-i", inventory, "--list-tasks");
  rmSync(cache, { force: true });
  expect(await fast("playbooks/demo.ts", "-i", inventory, "--list-tasks")).toEqual(expected);
  expect(statSync(cache).size).toBeGreaterThan(500_000);
  writeFileSync(cache, "not a code cache");
  expect(await fast("playbooks/demo.ts", "-i", inventory, "--list-tasks")).toEqual(expected);
  expect(statSync(cache).size).toBeGreaterThan(500_000);
}, 30_000);

it("passes a signal on to the run it started: stopping the npx form leaves no run behind", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rigger-signal-"));
  const playbook = join(dir, "waits.ts");
  writeFileSync(
    playbook,
    "await new Promise((resolve) => setTimeout(resolve, 60_000));\nexport default { plays: [] };\n",
  );
  const runs = () => {
    try {
      return execFileSync("pgrep", ["-f", `bin/rigger.mjs ${playbook}`], { encoding: "utf8" }).trim();
    } catch {
      return "";
    }
  };
  const npx = spawn("node_modules/.bin/tsx", ["run.ts", playbook, "-i", inventory], { stdio: "ignore" });
  const ended = new Promise((resolve) => npx.on("exit", (code, signal) => resolve(signal ?? code)));
  await vi.waitFor(() => expect(runs()).not.toBe(""), { timeout: 15_000, interval: 100 });
  npx.kill("SIGTERM");
  // tsx ends as its child did: by the signal, or with 128 + its number.
  expect([143, "SIGTERM"]).toContain(await ended);
  expect(runs()).toBe("");
}, 30_000);

it("keys V8's code cache by the engine's sha256, and writes none from an engine that changed during the run", async () => {
  const cache = "dist/engine.cjs.v8cache";
  const engine = "dist/engine.cjs";
  const digest = () => createHash("sha256").update(readFileSync(engine)).digest();
  rmSync(cache, { force: true });
  expect((await fast("--version")).code).toBe(0);
  expect(readFileSync(cache).subarray(0, 32).equals(digest())).toBe(true);
  // A cache made for another build, however new, is not read: it is made again for this one.
  const other = Buffer.concat([Buffer.alloc(32), readFileSync(cache).subarray(32)]);
  writeFileSync(cache, other);
  expect((await fast("--version")).code).toBe(0);
  expect(readFileSync(cache).subarray(0, 32).equals(digest())).toBe(true);

  // The engine is rebuilt while a run goes on: that run's functions are not the new engine's.
  const dir = mkdtempSync(join(tmpdir(), "rigger-rebuilt-"));
  const playbook = join(dir, "waits.ts");
  writeFileSync(
    playbook,
    "await new Promise((resolve) => setTimeout(resolve, 1500));\nexport default { plays: [] };\n",
  );
  const original = readFileSync(engine);
  rmSync(cache, { force: true });
  try {
    const run = fast(playbook, "-i", inventory);
    await new Promise((resolve) => setTimeout(resolve, 700));
    appendFileSync(engine, "\n// rebuilt\n");
    await run;
    expect(existsSync(cache)).toBe(false);
  } finally {
    writeFileSync(engine, original);
  }
}, 30_000);

it("refuses to run a built engine older than the sources (a git pull since the build), saying how to rebuild", async () => {
  // What a git pull does to a file it updates: a new file renamed over the old one, so its folder changes too.
  const folder = "src/cli";
  const { atime, mtime } = statSync(folder);
  const replacement = `${folder}/.args.ts.pulled`;
  copyFileSync(`${folder}/args.ts`, replacement);
  renameSync(replacement, `${folder}/args.ts`);
  try {
    const stale = await fast("--version");
    expect(stale.code).toBe(1);
    expect(stale.out).toContain("rigger: the built engine (dist/) is older than the sources in src/");
    expect(stale.out).toContain("run `npm run build`");
  } finally {
    utimesSync(folder, atime, mtime);
  }
  expect((await fast("--version")).code).toBe(0);
});

it("bundles a playbook where its cache folder cannot be written: the run goes on", async () => {
  const cacheDir = "node_modules/.cache/rigger";
  const aside = `${cacheDir}.aside-${process.pid}`;
  if (existsSync(cacheDir)) renameSync(cacheDir, aside);
  // A file where the folder should be: mkdir fails as on a read-only install.
  writeFileSync(cacheDir, "");
  try {
    const expected = await fromSources("playbooks/demo.ts", "-i", inventory, "--list-tasks");
    expect(await fast("playbooks/demo.ts", "-i", inventory, "--list-tasks")).toEqual(expected);
  } finally {
    rmSync(cacheDir, { force: true });
    if (existsSync(aside)) renameSync(aside, cacheDir);
  }
}, 30_000);
