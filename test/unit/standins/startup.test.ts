/**
 * The stand-ins refuse a configuration the real services refuse, at start, with their words
 * (lk-jwt-service config.go; Synapse's key and config loading). Run as processes, as the images run them.
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { $ } from "zx";

const dir = mkdtempSync(join(tmpdir(), "rigger-standins-"));
const start = (standin: string, env: Record<string, string>) =>
  $({
    nothrow: true,
    env: { PATH: process.env.PATH!, ...env },
    timeout: "20s",
  })`node --import tsx ${`test/standins/${standin}.ts`}`;

it("lk-jwt dies as the real one does on a key file that is not key:secret, and on missing settings", async () => {
  const keys = join(dir, "keys.yaml");
  writeFileSync(keys, "APIkey: secret:with-a-colon\n");
  const base = {
    LIVEKIT_URL: "ws://127.0.0.1:1",
    LIVEKIT_FULL_ACCESS_HOMESERVERS: "example.test",
    LIVEKIT_JWT_BIND: "127.0.0.1:0",
  };
  const colon = await start("lk-jwt", { ...base, LIVEKIT_KEY_FILE: keys });
  expect(colon.exitCode).toBe(1);
  expect(colon.stderr).toContain("invalid key secret file format!");
  const noFullAccess = await start("lk-jwt", {
    LIVEKIT_URL: "ws://127.0.0.1:1",
    LIVEKIT_KEY: "k",
    LIVEKIT_SECRET: "s",
  });
  expect(noFullAccess.exitCode).toBe(1);
  expect(noFullAccess.stderr).toContain("LIVEKIT_FULL_ACCESS_HOMESERVERS environment variable must be set");
  const sanity = await start("lk-jwt", {
    ...base,
    LIVEKIT_KEY: "k",
    LIVEKIT_SECRET: "s",
    LIVEKIT_SANITY_CHECK_INTERVAL_SECONDS: "-1",
  });
  expect(sanity.exitCode).toBe(1);
  expect(sanity.stderr).toContain('LIVEKIT_SANITY_CHECK_INTERVAL_SECONDS must be a non-negative integer, got "-1"');
}, 60_000);

it("the Synapse stand-in refuses to start without a readable ed25519 signing key", async () => {
  const config = join(dir, "homeserver.yaml");
  writeFileSync(config, `server_name: example.test\nsigning_key_path: ${join(dir, "missing.key")}\nlisteners: []\n`);
  const missing = await start("synapse", { SYNAPSE_CONFIG_PATH: config });
  expect(missing.exitCode).toBe(1);
  expect(missing.stderr).toContain("missing.key");
  writeFileSync(join(dir, "bad.key"), "not a key\n");
  writeFileSync(config, `server_name: example.test\nsigning_key_path: ${join(dir, "bad.key")}\nlisteners: []\n`);
  expect((await start("synapse", { SYNAPSE_CONFIG_PATH: config })).stderr).toContain("not an ed25519 signing key");
}, 60_000);
