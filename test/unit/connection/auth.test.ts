import { mkdirSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { $ } from "zx";
import { authMethods, hostKeyAlgorithms } from "../../../src/connection/auth.js";

const saved = { HOME: process.env.HOME, SSH_AUTH_SOCK: process.env.SSH_AUTH_SOCK };
afterEach(() => Object.assign(process.env, saved));

it("asks first for the host key types known_hosts holds for the host (RSA by its rsa-sha2 signatures)", () => {
  expect(hostKeyAlgorithms(["ecdsa-sha2-nistp256"]).slice(0, 2)).toEqual(["ecdsa-sha2-nistp256", "ssh-ed25519"]);
  expect(hostKeyAlgorithms(["ssh-rsa"]).slice(0, 3)).toEqual(["rsa-sha2-512", "rsa-sha2-256", "ssh-rsa"]);
  expect(hostKeyAlgorithms([])[0]).toBe("ssh-ed25519");
  expect(new Set(hostKeyAlgorithms(["ssh-rsa", "ssh-ed25519"])).size).toBe(hostKeyAlgorithms([]).length);
});

it("logs in with the agent, then OpenSSH's default identity files, skipping one that needs a passphrase", async () => {
  const home = mkdtempSync(join(tmpdir(), "rigger-home-"));
  mkdirSync(join(home, ".ssh"));
  await $`ssh-keygen -q -t ecdsa -N '' -f ${join(home, ".ssh", "id_ecdsa")}`;
  await $`ssh-keygen -q -t rsa -b 2048 -N secret-passphrase -f ${join(home, ".ssh", "id_rsa")}`;
  Object.assign(process.env, { HOME: home, SSH_AUTH_SOCK: "/run/agent.sock" });
  const methods = await authMethods("deploy", undefined);
  expect(methods.map((m) => m.type)).toEqual(["agent", "publickey"]);
  expect(methods[0]).toMatchObject({ username: "deploy", agent: "/run/agent.sock" });
  // The configured key alone when the inventory names one.
  const named = await authMethods("deploy", join(home, ".ssh", "id_ecdsa"));
  expect(named.map((m) => m.type)).toEqual(["publickey"]);
});
