import { expect, it } from "vitest";
import { stringify } from "yaml";
import { Masker, MASK } from "../../../src/engine/masker.js";
import { quote, raw, sh } from "../../../src/common/shell.js";
import { lineDiff } from "../../../src/engine/diff.js";
import { HostSession } from "../../../src/engine/host-session.js";
import type { SshConnection } from "../../../src/connection/ssh.js";

it("quotes every interpolated word for a POSIX shell", () => {
  expect(quote("plain-word_1.2/x")).toBe("plain-word_1.2/x");
  expect(quote("it's $HOME; rm -rf /")).toBe(`'it'\\''s $HOME; rm -rf /'`);
  expect(quote("")).toBe("''");
  expect(sh`install ${["a b", "c"]} ${raw("2>&1")} ${7}`).toBe("install 'a b' c 2>&1 7");
});

it("masks every occurrence of every secret, longest first, deep in reports", () => {
  const masker = new Masker();
  masker.add("s3cret-value");
  masker.add("s3cret-value-longer");
  masker.add("abc"); // too short to mask safely
  expect(masker.mask("a=s3cret-value-longer b=s3cret-value abc")).toBe(`a=${MASK} b=${MASK} abc`);
  expect(masker.maskDeep({ list: ['x "s3cret-value"'], n: 1 })).toEqual({ list: [`x "${MASK}"`], n: 1 });
});

it("diffs line by line in hunks with two lines of context", () => {
  const before = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "10", ""].join("\n");
  const after = ["1", "2", "three", "4", "5", "6", "7", "8", "9", "10", "11", ""].join("\n");
  expect(lineDiff(before, after, "/f").split("\n")).toEqual([
    "--- /f (on the host)",
    "+++ /f (wanted)",
    "@@ -1,5 +1,5 @@",
    " 1",
    " 2",
    "-3",
    "+three",
    " 4",
    " 5",
    "@@ -9,2 +9,3 @@",
    " 9",
    " 10",
    "+11",
  ]);
  expect(lineDiff("same\n", "same\n", "/f")).toBe("--- /f (on the host)\n+++ /f (wanted)");
});

it("refuses, before anything reaches the host, a command that holds a secret", async () => {
  const masker = new Masker();
  masker.add("turn-secret-'quoted' $value");
  expect(masker.holdsSecret(sh`echo ${"turn-secret-'quoted' $value"}`)).toBe(true); // also in its quoted form
  expect(masker.mask(sh`echo ${"turn-secret-'quoted' $value"}`)).toBe(`echo '${MASK}'`);
  expect(masker.holdsSecret("docker run -e SECRET=turn-secret-'quoted' $value x")).toBe(true);
  const sent: string[] = [];
  const connection = {
    exec: async (command: string) => (sent.push(command), { code: 0, stdout: "", stderr: "" }),
  } as unknown as SshConnection;
  const session = new HostSession({
    name: "h",
    connection,
    takeLock: false,
    openAnother: async () => connection,
    masker,
  });
  await expect(session.run("docker run -e SECRET=turn-secret-'quoted' $value x")).rejects.toThrow(
    /refused to run a command that holds a secret/,
  );
  await session.run("true");
  // What reaches the host: the command under its time limit, kept by the host itself.
  expect(sent).toEqual(["timeout -k 5 600 sh -c true"]);
});

it("diffs a 50,000-line file in well under a second, or says it is too large", () => {
  const big = Array.from({ length: 50_000 }, (_, i) => `line ${i}`).join("\n");
  let started = Date.now();
  const edited = lineDiff(big, big.replace("line 25000\n", "line twenty-five thousand\n"), "/big");
  expect(Date.now() - started).toBeLessThan(1000);
  expect(edited.split("\n").slice(2)).toEqual([
    "@@ -24999,5 +24999,5 @@",
    " line 24998",
    " line 24999",
    "-line 25000",
    "+line twenty-five thousand",
    " line 25001",
    " line 25002",
  ]);
  started = Date.now();
  const rewritten = lineDiff(big, big.replace(/line/g, "row"), "/big");
  expect(Date.now() - started).toBeLessThan(1000);
  expect(rewritten).toContain("(too large to diff line by line: 50000 lines on the host against 50000 wanted)");
});

it("shows no old line of a file that holds secrets: a rotated secret is known to no masker any more", () => {
  const diff = lineDiff("A=1\nSECRET=old-value-nobody-masks\n", "A=1\nSECRET=new\n", "/f", { hideRemoved: MASK });
  expect(diff).not.toContain("old-value-nobody-masks");
  expect(diff.split("\n").slice(2)).toEqual(["@@ -1,2 +1,2 @@", " A=1", `-${MASK}`, "+SECRET=new"]);
});

it("masks a secret in its escaped forms too: JSON and YAML double quotes, shell single and double quotes", () => {
  const secret = `pa"ss\\wo'rd$1`;
  const masker = new Masker();
  masker.add(secret);
  expect(masker.mask(JSON.stringify({ password: secret }))).toBe(`{"password":"${MASK}"}`);
  const yaml = masker.mask(stringify({ password: secret }, { defaultStringType: "QUOTE_DOUBLE" }));
  expect(yaml).toContain(`: "${MASK}"`);
  expect(yaml).not.toContain("rd$1");
  expect(masker.mask(sh`echo ${secret}`)).toBe(`echo '${MASK}'`);
  expect(masker.mask(`echo "pa\\"ss\\\\wo'rd\\$1"`)).toBe(`echo "${MASK}"`);
});

it("tells a command's own exit 124 or 137 from its time limit: only past the limit is it the limit's", async () => {
  const answering = (code: number) =>
    ({ exec: async () => ({ code, stdout: "", stderr: "" }) }) as unknown as SshConnection;
  for (const code of [124, 137]) {
    const session = new HostSession({
      name: "h",
      connection: answering(code),
      takeLock: false,
      openAnother: async () => answering(code),
    });
    await expect(session.run("exit 124", 600)).resolves.toMatchObject({ code });
  }
  const slow = {
    exec: () => new Promise((resolve) => setTimeout(() => resolve({ code: 124, stdout: "", stderr: "" }), 1100)),
  } as unknown as SshConnection;
  const limited = new HostSession({ name: "h", connection: slow, takeLock: false, openAnother: async () => slow });
  await expect(limited.run("sleep 5", 1)).rejects.toThrow("still running after 1 s: killed");
});
