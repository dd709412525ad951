import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { main } from "../../../src/cli/main.js";
import { parseExtraVars } from "../../../src/cli/extra-vars.js";
import { render } from "../../../src/ops/template.js";

async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const dir = mkdtempSync(join(tmpdir(), "rigger-cli-"));
writeFileSync(join(dir, "hosts.yaml"), "all:\n  hosts:\n    h1:\n      ansible_host: 192.0.2.1\n      db_password: hunter2-hunter2\n");

it("refuses an unknown option, a missing inventory or playbook, and a lone --fail-on-change, with exit 1", async () => {
  expect(await cli("--bogus")).toMatchObject({ code: 1, err: expect.stringContaining("rigger: Unknown option '--bogus'") });
  expect(await cli("playbooks/demo.ts")).toMatchObject({ code: 1, err: expect.stringContaining("an inventory is required") });
  expect(await cli("nope.ts", "-i", dir)).toMatchObject({ code: 1, err: expect.stringContaining("no playbook at nope.ts") });
  expect(await cli("playbooks/demo.ts", "-i", join(dir, "missing"))).toMatchObject({ code: 1, err: expect.stringContaining("no such inventory") });
  expect(await cli("playbooks/demo.ts", "-i", dir, "--fail-on-change")).toMatchObject({ code: 1, err: expect.stringContaining("--fail-on-change goes with --check") });
  expect(await cli("playbooks/demo.ts", "-i", dir, "--forks", "0")).toMatchObject({ code: 1 });
});

it("answers --help and --version", async () => {
  expect(await cli("--help")).toMatchObject({ code: 0, out: expect.stringContaining("exit codes: 0 ok") });
  expect(await cli("--version")).toMatchObject({ code: 0, out: expect.stringMatching(/^rigger \d+\.\d+\.\d+$/) });
});

it("lists the inventory as ansible-inventory does, with secret-looking values masked", async () => {
  const { code, out } = await cli("--list-inventory", "-i", dir);
  expect(code).toBe(0);
  const listed = JSON.parse(out);
  expect(listed.all.children).toEqual(["ungrouped"]);
  expect(listed._meta.hostvars.h1).toEqual({ ansible_host: "192.0.2.1", db_password: "********" });
});

it("reads -e key=value as strings and -e @file as YAML, later ones winning", () => {
  const file = join(dir, "extra.yaml");
  writeFileSync(file, "port: 8081\nname: from-file\n");
  expect(parseExtraVars(["name=a=b", `@${file}`, "port=9"])).toEqual({ name: "from-file", port: "9" });
  expect(() => parseExtraVars(["novalue"])).toThrow("expected key=value or @file.yaml");
});

it("renders templates strictly: a missing variable names the template and the variable", () => {
  const template = join(dir, "t.hbs");
  writeFileSync(template, "port={{port}} key={{livekit.key}}\n");
  expect(render(template, { port: 1, livekit: { key: "k" } })).toBe("port=1 key=k\n");
  expect(() => render(template, { port: 1 })).toThrow(`template ${template}: the variable "livekit.key" is not defined (line 1)`);
});

it("masks a secret in an unexpected error, its stack included, and exits 1 without a crash", async () => {
  const playbook = join(dir, "throws.ts");
  writeFileSync(
    playbook,
    `import { z } from "zod";\nimport { definePlaybook, defineRole } from "${process.cwd()}/src/rigger.js";\n` +
      `const role = defineRole({ name: "r", vars: z.object({ db_password: z.string() }), tasks: () => [], ports: (v) => { throw new Error("cannot use " + v.db_password); } });\n` +
      `export default definePlaybook([{ name: "p", hosts: "all", roles: [role] }]);\n`,
  );
  for (const verbosity of [[], ["-vv"]]) {
    const result = await cli(playbook, "-i", dir, ...verbosity);
    expect(result.code).toBe(1);
    expect(result.err).toContain("rigger: error: ");
    expect(result.err).toContain("cannot use ********");
    expect(result.err + result.out).not.toContain("hunter2-hunter2");
  }
});

it("masks, in --list-inventory, a secret holding quotes, a dollar, a newline and spaces, at any depth", async () => {
  const secret = `it's "a $ecret"\nsecond line of it`;
  const inv = mkdtempSync(join(tmpdir(), "rigger-cli-"));
  writeFileSync(join(inv, "hosts.yaml"), `all:\n  hosts:\n    h1:\n      services:\n        - name: api\n          api_token: ${JSON.stringify(secret)}\n`);
  const { code, out } = await cli("--list-inventory", "-i", inv);
  expect(code).toBe(0);
  expect(JSON.parse(out)._meta.hostvars.h1.services[0].api_token).toBe("********");
  for (const fragment of [secret, JSON.stringify(secret).slice(1, -1), "it's", "second line of it"]) expect(out).not.toContain(fragment);
});
