import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { generateX25519Identity, identityToRecipient } from "age-encryption";
import { afterEach, beforeEach, expect, it } from "vitest";
import { loadInventory, openSecretsStore } from "../../../src/inventory/load.js";
import { keepSecrets } from "../../../src/inventory/secrets-keeping.js";
import { rigger } from "../../helpers/rigger.js";

const SECRET = "fresh-secret-value-0123456789abcdefghij";
let home: string;
beforeEach(() => {
  home = mkdtempSync(join(tmpdir(), "rigger-age-"));
  process.env.RIGGER_AGE_IDENTITY_FILE = join(home, "identity.txt");
  delete process.env.RIGGER_AGE_IDENTITY;
});
afterEach(() => {
  delete process.env.RIGGER_AGE_IDENTITY_FILE;
  delete process.env.RIGGER_AGE_IDENTITY;
});

function inventory(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "rigger-age-inv-"));
  writeFileSync(join(dir, "hosts.yaml"), "all:\n  hosts:\n    a:\n");
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text, { mode: 0o600 });
  return dir;
}

it("keeps a fresh inventory's secrets as age ciphertext, for an identity made once outside the inventory", async () => {
  const dir = inventory();
  const notes = await keepSecrets(await openSecretsStore(dir), { livekit_api_secret: SECRET });
  expect(notes.join("\n")).toContain(`created your age identity ${join(home, "identity.txt")}`);
  expect(statSync(join(home, "identity.txt")).mode & 0o777).toBe(0o600);
  const store = readFileSync(join(dir, "secrets.yaml"), "utf8");
  expect(store).toMatch(
    /^# rigger's secrets store, encrypted with age[\s\S]*\n!age \|\n {2}-----BEGIN AGE ENCRYPTED FILE-----\n/,
  );
  expect(store).not.toContain(SECRET);
  expect(store).not.toContain("livekit_api_secret");
  expect(readFileSync(join(dir, "secrets.recipients"), "utf8")).toMatch(
    /^# Who can read secrets\.yaml[^\n]*\nage1[0-9a-z]+\n$/,
  );
  expect(loadInventory(dir, await openSecretsStore(dir)).secrets.get("livekit_api_secret")).toBe(SECRET);
  // A second run's secret joins the same ciphertext; the identity is not made again.
  expect(await keepSecrets(await openSecretsStore(dir), { turn_shared_secret: `${SECRET}2` })).toEqual([]);
  expect((await openSecretsStore(dir)).names().sort()).toEqual(["livekit_api_secret", "turn_shared_secret"]);
});

it("opens for every listed operator and nobody else; a removed operator's key no longer does", async () => {
  const dir = inventory();
  await keepSecrets(await openSecretsStore(dir), { turn_shared_secret: SECRET });
  const bob = await generateX25519Identity();
  const bobRecipient = await identityToRecipient(bob);
  const stranger = await generateX25519Identity();
  // Bob prints his recipient (his identity is made then), and an operator already listed adds it.
  process.env.RIGGER_AGE_IDENTITY = bob;
  expect((await rigger("secrets", "recipient")).out).toBe(bobRecipient);
  delete process.env.RIGGER_AGE_IDENTITY;
  expect((await rigger("secrets", "add-recipient", "-i", dir, bobRecipient)).code).toBe(0);
  process.env.RIGGER_AGE_IDENTITY = bob;
  expect((await openSecretsStore(dir)).get("turn_shared_secret")).toBe(SECRET);
  process.env.RIGGER_AGE_IDENTITY = stranger;
  await expect(openSecretsStore(dir)).rejects.toThrow(
    /secrets\.yaml: is encrypted for other recipients: no identity of yours opens it/,
  );
  delete process.env.RIGGER_AGE_IDENTITY;
  const removed = await rigger("secrets", "remove-recipient", "-i", dir, bobRecipient);
  expect(removed.out).toContain("rotate those secrets");
  process.env.RIGGER_AGE_IDENTITY = bob;
  await expect(openSecretsStore(dir)).rejects.toThrow(/encrypted for other recipients/);
});

it("lists names without values, shows one when asked, rotates by dropping it, and takes a value from stdin only", async () => {
  const dir = inventory();
  await keepSecrets(await openSecretsStore(dir), { turn_shared_secret: SECRET, synapse_signing_key: `${SECRET}k` });
  const listed = await rigger("secrets", "list", "-i", dir);
  expect(listed.out).toBe("synapse_signing_key\nturn_shared_secret");
  expect((await rigger("secrets", "show", "-i", dir, "turn_shared_secret")).out).toBe(SECRET);
  expect((await rigger("secrets", "show", "-i", dir, "nope")).err).toContain("nope: is not in the store");
  expect((await rigger("secrets", "rotate", "-i", dir, "turn_shared_secret")).out).toContain(
    "the next run generates a new one",
  );
  expect((await openSecretsStore(dir)).names()).toEqual(["synapse_signing_key"]);
  expect((await rigger("secrets", "frobnicate", "-i", dir)).code).toBe(1);
});

it("still reads a plaintext store, warns with the command that encrypts it, and that command does", async () => {
  const dir = inventory({ "secrets.yaml": `turn_shared_secret: ${SECRET}\n` });
  const store = await openSecretsStore(dir);
  expect(store.get("turn_shared_secret")).toBe(SECRET);
  expect(await keepSecrets(store, {})).toEqual([
    `${join(dir, "secrets.yaml")} holds its secrets in plaintext (never commit it): encrypt it with \`rigger secrets encrypt -i ${dir}\``,
  ]);
  const encrypted = await rigger("secrets", "encrypt", "-i", dir);
  expect(encrypted.code, encrypted.err).toBe(0);
  expect(readFileSync(join(dir, "secrets.yaml"), "utf8")).not.toContain(SECRET);
  expect((await openSecretsStore(dir)).get("turn_shared_secret")).toBe(SECRET);
  expect(existsSync(join(dir, "secrets.recipients"))).toBe(true);
});

it("refuses an Ansible Vault value, naming the file, the place and the tag, rather than take its ciphertext", () => {
  const dir = inventory();
  writeFileSync(
    join(dir, "hosts.yaml"),
    "all:\n  hosts:\n    a:\n      db_password: !vault |\n        $ANSIBLE_VAULT;1.1;AES256\n        6162\n",
  );
  expect(() => loadInventory(dir)).toThrow(
    /hosts\.yaml: line 4, column 20: the tag !vault is not one rigger reads \(!secret NAME, !env NAME\): Ansible Vault values are not decrypted/,
  );
});
