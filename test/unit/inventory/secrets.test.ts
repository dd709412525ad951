import { existsSync, mkdtempSync, readFileSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { z } from "zod";
import { generate } from "../../../src/common/generate.js";
import { Masker, MASK } from "../../../src/engine/masker.js";
import { definePlaybook, defineRole } from "../../../src/engine/playbook.js";
import { preparePlaybook } from "../../../src/engine/prepare.js";
import { loadInventory } from "../../../src/inventory/load.js";
import { isSecretName, secretStrings } from "../../../src/inventory/secret-vars.js";
import { SecretsStore } from "../../../src/inventory/secrets-store.js";
import { withFileLock } from "../../../src/common/file-lock.js";

it("counts a variable as secret by a whole word of its name, not by a reference to a file", () => {
  for (const name of ["synapse_signing_key", "livekit_api_key", "turn_shared_secret", "db_password", "apiToken", "key"])
    expect(isSecretName(name), name).toBe(true);
  for (const name of [
    "ansible_ssh_private_key_file",
    "turn_shared_secret_path",
    "monkey_business",
    "keyboard",
    "kernel_rmem_max",
    "tokens_per_second",
  ])
    expect(isSecretName(name), name).toBe(false);
  expect(
    secretStrings({
      plain: "a",
      nested: { list: [{ db_password: "p1" }], turn: { secret: "p2" } },
      livekit_keys_key: { any: ["p3"] },
    }),
  ).toEqual(["p1", "p2", "p3"]);
});

const role = defineRole({
  name: "svc",
  vars: z.object({ svc_secret: z.string().min(32), svc_key: z.string() }),
  secrets: { svc_secret: generate.token(40), svc_key: generate.prefixed("API", 12) },
  tasks: () => [],
});
const playbook = definePlaybook([{ name: "p", hosts: "all", roles: [role] }]);

function inventoryDir(secrets?: string): string {
  const dir = mkdtempSync(join(tmpdir(), "rigger-secrets-"));
  writeFileSync(join(dir, "hosts.yaml"), "all:\n  hosts:\n    a:\n    b:\n");
  if (secrets !== undefined) writeFileSync(join(dir, "secrets.yaml"), secrets, { mode: 0o600 });
  return dir;
}

it("generates a declared secret once for all hosts, keeps it in a plaintext store (0600, comments kept) and reuses it", async () => {
  const dir = inventoryDir("# operator's note\nother: keep-me-as-i-am-0123456789abcdef\n");
  const masker = new Masker();
  const first = preparePlaybook(playbook, loadInventory(dir), { playbookFile: "p.ts", extraVars: {}, masker });
  const secret = first.generatedSecrets.svc_secret!;
  expect(secret).toMatch(/^[A-Za-z0-9]{40}$/);
  expect(first.generatedSecrets.svc_key).toMatch(/^API[A-Za-z0-9]{12}$/);
  expect(masker.mask(`x ${secret} y`)).toBe(`x ${MASK} y`);
  const inventory = loadInventory(dir);
  await inventory.secrets.add(first.generatedSecrets);
  expect(statSync(join(dir, "secrets.yaml")).mode & 0o777).toBe(0o600);
  const text = readFileSync(join(dir, "secrets.yaml"), "utf8");
  expect(text).toContain("# operator's note\nother: keep-me-as-i-am-0123456789abcdef\n");
  expect(text).toContain(`\nsvc_secret: ${secret}\n`);

  const again = preparePlaybook(playbook, loadInventory(dir), {
    playbookFile: "p.ts",
    extraVars: {},
    masker: new Masker(),
  });
  expect(again.generatedSecrets).toEqual({});
  // Deleting it from the store rotates it: the next run generates a new one.
  writeFileSync(join(dir, "secrets.yaml"), `svc_key: ${first.generatedSecrets.svc_key}\n`, { mode: 0o600 });
  const rotated = preparePlaybook(playbook, loadInventory(dir), {
    playbookFile: "p.ts",
    extraVars: {},
    masker: new Masker(),
  });
  expect(Object.keys(rotated.generatedSecrets)).toEqual(["svc_secret"]);
  expect(rotated.generatedSecrets.svc_secret).not.toBe(secret);
});

it("takes a secret the operator set over the store, and holds it to the role's schema without printing it", () => {
  const dir = inventoryDir();
  const masker = new Masker();
  const short = "short-'secret' $x";
  expect(() =>
    preparePlaybook(playbook, loadInventory(dir), { playbookFile: "p.ts", extraVars: { svc_secret: short }, masker }),
  ).toThrow(/extra vars \(-e\): a, b: svc_secret: Too small: expected string to have >=32 characters \(role svc\)/);
  expect(masker.holdsSecret(short)).toBe(true);
});

it("starts a new plaintext store as a plain block mapping, one secret a line", async () => {
  const dir = inventoryDir();
  await loadInventory(dir).secrets.add({ a_secret: "x".repeat(32), b_secret: "y".repeat(32) });
  expect(readFileSync(join(dir, "secrets.yaml"), "utf8")).toBe(
    `a_secret: ${"x".repeat(32)}\nb_secret: ${"y".repeat(32)}\n`,
  );
});

it("learns, before anything can print them, secrets from play vars and role parameters at any depth", () => {
  const open = defineRole({
    name: "open",
    vars: z.object({ settings: z.record(z.string(), z.unknown()).default({}) }),
    tasks: () => [],
  });
  const book = definePlaybook([
    {
      name: "p",
      hosts: "all",
      vars: { smtp: { auth: { password: "play-vars-secret-value" } } },
      roles: [{ role: open, params: { settings: { api_token: ["role-param-secret-value"] } } }],
    },
  ]);
  const masker = new Masker();
  preparePlaybook(book, loadInventory(inventoryDir()), { playbookFile: "p.ts", extraVars: {}, masker });
  expect(masker.mask("play-vars-secret-value role-param-secret-value")).toBe(`${MASK} ${MASK}`);
});

it("stores generated secrets under a lock: a name another run stored meanwhile with its own value stops this run, naming it", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rigger-store-"));
  const first = new SecretsStore(dir);
  const second = new SecretsStore(dir);
  await first.add({ livekit_secret: "value-of-the-first-run" });
  await expect(second.add({ livekit_secret: "value-of-the-second-run" })).rejects.toThrow(
    /secrets\.yaml: livekit_secret: was generated by another run at the same time/,
  );
  expect(readFileSync(join(dir, "secrets.yaml"), "utf8")).toBe("livekit_secret: value-of-the-first-run\n");
  // The same value (a run that read the store after the first) is no conflict.
  await new SecretsStore(dir).add({ livekit_secret: "value-of-the-first-run", turn_secret: "another-value" });
});

it("waits for the store's lock, and takes over one left by a run that died a minute ago", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rigger-store-"));
  const lock = join(dir, "secrets.yaml.lock");
  writeFileSync(lock, "12345\n");
  expect(() => withFileLock(join(dir, "secrets.yaml"), () => "done", 200)).toThrow(`${lock} is held by another run`);
  const twoMinutesAgo = new Date(Date.now() - 120_000);
  utimesSync(lock, twoMinutesAgo, twoMinutesAgo);
  await new SecretsStore(dir).add({ turn_secret: "after-the-stale-lock" });
  expect(existsSync(lock)).toBe(false);
});
