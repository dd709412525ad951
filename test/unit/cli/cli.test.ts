import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { main } from "../../../src/cli/main.js";
import { parseExtraVars } from "../../../src/cli/extra-vars.js";
import { render } from "../../../src/ops/template.js";
import { Masker } from "../../../src/engine/masker.js";
import { preparePlaybook } from "../../../src/engine/prepare.js";
import { loadInventory } from "../../../src/inventory/load.js";
import site from "../../../playbooks/site.js";

async function cli(...args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(args, { out: (l) => out.push(l), err: (l) => err.push(l) });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

const dir = mkdtempSync(join(tmpdir(), "rigger-cli-"));
writeFileSync(
  join(dir, "hosts.yaml"),
  "all:\n  hosts:\n    h1:\n      ansible_host: 192.0.2.1\n      db_password: hunter2-hunter2\n",
);

it("refuses an unknown option, a missing inventory or playbook, and a lone --fail-on-change, with exit 1", async () => {
  expect(await cli("--bogus")).toMatchObject({
    code: 1,
    err: expect.stringContaining("rigger: Unknown option '--bogus'"),
  });
  expect(await cli("playbooks/demo.ts")).toMatchObject({
    code: 1,
    err: expect.stringContaining("an inventory is required"),
  });
  expect(await cli("nope.ts", "-i", dir)).toMatchObject({
    code: 1,
    err: expect.stringContaining("no playbook at nope.ts"),
  });
  expect(await cli("playbooks/demo.ts", "-i", join(dir, "missing"))).toMatchObject({
    code: 1,
    err: expect.stringContaining("no such inventory"),
  });
  expect(await cli("playbooks/demo.ts", "-i", dir, "--fail-on-change")).toMatchObject({
    code: 1,
    err: expect.stringContaining("--fail-on-change goes with --check"),
  });
  expect(await cli("playbooks/demo.ts", "-i", dir, "--forks", "0")).toMatchObject({ code: 1 });
  // A slip is one line that says where the rest is, never the whole usage scrolling it away.
  expect(await cli("playbooks/demo.ts", "-i", dir, "--forsk", "3")).toEqual({
    code: 1,
    out: "",
    err: expect.stringMatching(
      /^rigger: Unknown option '--forsk'; did you mean --forks\? \(rigger --help lists every option\)$/,
    ),
  });
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

it("reads -e as ansible-playbook does: key=value pairs (several in one, quotes kept), JSON, @file; later ones winning", () => {
  const file = join(dir, "extra.yaml");
  writeFileSync(file, "port: 8081\nname: from-file\n");
  expect(parseExtraVars(["name=a=b", `@${file}`, "port=9"])).toEqual({
    vars: { name: "from-file", port: "9" },
    loose: new Set(["port"]),
  });
  expect(parseExtraVars([`a=1 b='two words' c="x y"`]).vars).toEqual({ a: "1", b: "two words", c: "x y" });
  expect(parseExtraVars(['{"a": 1, "list": ["x"]}', "b=2"])).toEqual({
    vars: { a: 1, list: ["x"], b: "2" },
    loose: new Set(["b"]),
  });
  // A JSON value after a pair of the same name is no longer a loose string.
  expect(parseExtraVars(["a=1", '{"a": "1"}']).loose).toEqual(new Set());
  expect(() => parseExtraVars(["novalue"])).toThrow("expected key=value, a JSON object or @file.yaml");
  expect(() => parseExtraVars(["{not json"])).toThrow("not valid JSON");
  expect(() => parseExtraVars(["a='open"])).toThrow("an unclosed '");
  // What is wrong is said without the text, which may be a secret: unterminated, pasted without its name, or unquoted.
  const secret = "Zq8s7KJ2mN4pXw9vB3tL6yR1";
  for (const [given, said] of [
    [`{"redis_password": "${secret}`, "not valid JSON: it ends early"],
    [secret, "got word 1 without"],
    [`redis_password='${secret}`, "an unclosed '"],
    [`{"redis_password": ${secret}}`, "not valid JSON \\(the text is not shown"],
  ])
    expect(() => parseExtraVars([given!]), given).toThrow(new RegExp(`^(?!.*${secret.slice(0, 8)}).*${said}`, "s"));
});

it("reads a key=value string as the role expects it (a number, a boolean), as Ansible does, and refuses what fits nothing", () => {
  const prepared = (items: string[]) => {
    const { vars, loose } = parseExtraVars(items);
    return preparePlaybook(site, loadInventory("inventory/dev2"), {
      playbookFile: "playbooks/site.ts",
      extraVars: vars,
      looseExtraVars: loose,
      masker: new Masker(),
    });
  };
  const { plays } = prepared(["livekit_drain_seconds=60 synapse_federation=false kernel_rmem_max=8000000"]);
  const tasks = plays.flatMap((p) => (p.hosts.get("dev2") ?? []).flatMap((r) => r.tasks));
  expect(tasks.map((t) => t.name)).toContain("sysctl net.core.rmem_max = 8000000");
  const homeserver = tasks.find((t) => t.name === "template /etc/matrixrtc/synapse/homeserver.yaml")!;
  expect((homeserver.plan({ current: { exists: false } }) as Array<{ content: string }>)[0]!.content).toContain(
    '- names: ["client","openid"]',
  );
  expect(() => prepared(["livekit_drain_seconds=soon"])).toThrow(
    /extra vars \(-e\): dev2: livekit_drain_seconds: .*expected number/,
  );
  expect(() => prepared(["synapse_federation=maybe"])).toThrow(/synapse_federation: .*expected boolean/);
});

it("renders templates strictly: a missing variable names the template and the variable", () => {
  const template = join(dir, "t.hbs");
  writeFileSync(template, "port={{port}} key={{livekit.key}}\n");
  expect(render(template, { port: 1, livekit: { key: "k" } })).toBe("port=1 key=k\n");
  expect(() => render(template, { port: 1 })).toThrow(
    `template ${template}: the variable "livekit.key" is not defined (line 1)`,
  );
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
  writeFileSync(
    join(inv, "hosts.yaml"),
    `all:\n  hosts:\n    h1:\n      services:\n        - name: api\n          api_token: ${JSON.stringify(secret)}\n`,
  );
  const { code, out } = await cli("--list-inventory", "-i", inv);
  expect(code).toBe(0);
  expect(JSON.parse(out)._meta.hostvars.h1.services[0].api_token).toBe("********");
  for (const fragment of [secret, JSON.stringify(secret).slice(1, -1), "it's", "second line of it"])
    expect(out).not.toContain(fragment);
});

it("refuses a secret too short to mask, naming the file and the variable, before anything else", async () => {
  const short = mkdtempSync(join(tmpdir(), "rigger-cli-"));
  writeFileSync(
    join(short, "hosts.yaml"),
    "all:\n  hosts:\n    h1:\n      ansible_host: 192.0.2.1\n      db_password: abc\n",
  );
  const { code, err } = await cli("--list-inventory", "-i", short);
  expect(code).toBe(1);
  expect(err).toContain(
    `${join(short, "hosts.yaml")}: h1.db_password: a secret of 3 characters cannot be masked in output: expected at least 4`,
  );
  expect(err).not.toContain(": abc");
});

it("checks where --json and --report will write before connecting to any host, and --break-lock names a host of the run", async () => {
  const unreachable = mkdtempSync(join(tmpdir(), "rigger-cli-"));
  // 192.0.2.1 is TEST-NET-1: a connection attempt would hang, so an answer at once means none was made.
  writeFileSync(join(unreachable, "hosts.yaml"), "all:\n  hosts:\n    h1:\n      ansible_host: 192.0.2.1\n");
  const NEEDS_NO_VARS = "test/e2e/fixtures/faults.ts";
  const started = Date.now();
  expect(await cli(NEEDS_NO_VARS, "-i", unreachable, "--json", "/nonexistent/dir/run.json")).toMatchObject({
    code: 1,
    err: expect.stringContaining("--json: cannot write into /nonexistent/dir (ENOENT)"),
  });
  const underAFile = join(unreachable, "hosts.yaml", "evidence");
  expect(await cli(NEEDS_NO_VARS, "-i", unreachable, "--report", underAFile)).toMatchObject({
    code: 1,
    err: expect.stringContaining(`--report: cannot create ${underAFile} (ENOTDIR)`),
  });
  expect(await cli(NEEDS_NO_VARS, "-i", unreachable, "--break-lock", "h9")).toMatchObject({
    code: 1,
    err: expect.stringContaining("--break-lock: h9 is not a host of this run (h1)"),
  });
  expect(await cli(NEEDS_NO_VARS, "-i", unreachable, "-T", "0")).toMatchObject({
    code: 1,
    err: expect.stringContaining("--timeout expects whole seconds"),
  });
  expect(Date.now() - started).toBeLessThan(5000);
});
