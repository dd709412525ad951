import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { listInventory } from "../../../src/cli/list-inventory.js";
import { Masker } from "../../../src/engine/masker.js";
import { selectHosts } from "../../../src/engine/host-pattern.js";
import { defineRole, definePlaybook, use } from "../../../src/engine/playbook.js";
import { preparePlaybook } from "../../../src/engine/prepare.js";
import { connectionVars } from "../../../src/inventory/connection-vars.js";
import { ConfigError } from "../../../src/inventory/errors.js";
import { loadInventory } from "../../../src/inventory/load.js";

/** Writes an inventory folder from a map of relative paths to file contents. */
function inventory(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), "rigger-inv-"));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, path)), { recursive: true });
    writeFileSync(join(dir, path), content, { mode: 0o600 });
  }
  return dir;
}

const HOSTS = `
all:
  vars: { level: all }
  children:
    matrix:
      vars: { level: parent }
      children:
        sfu:
          vars: { level: child }
          hosts:
            sfu[01:03]:
        homeserver:
          hosts:
            hs1: { ansible_host: 10.0.0.5, ansible_port: 2222 }
    edge:
      hosts:
        sfu02:
        proxy-[a:b]:
  hosts:
    loner:
`;

describe("inventory", () => {
  it("reads groups, children, host ranges and ungrouped hosts as Ansible does", () => {
    const inv = loadInventory(inventory({ "hosts.yaml": HOSTS }));
    expect([...inv.hosts.keys()]).toEqual(["sfu01", "sfu02", "sfu03", "hs1", "proxy-a", "proxy-b", "loner"]);
    expect(inv.hosts.get("loner")!.groups).toEqual(["all", "ungrouped"]);
    expect(inv.hosts.get("sfu02")!.groups).toEqual(["all", "edge", "matrix", "sfu"]);
    const listed = listInventory(inv) as Record<string, { hosts?: string[]; children?: string[] }>;
    expect(listed.all!.children).toEqual(["ungrouped", "matrix", "edge"]);
    expect(listed.matrix!.children).toEqual(["sfu", "homeserver"]);
    expect(listed.ungrouped!.hosts).toEqual(["loner"]);
    expect((listed._meta as unknown as { hostvars: Record<string, unknown> }).hostvars.hs1).toMatchObject({
      ansible_host: "10.0.0.5",
      ansible_port: 2222,
    });
  });

  it("selects hosts by name, group, glob, intersection and exclusion", () => {
    const inv = loadInventory(inventory({ "hosts.yaml": HOSTS }));
    expect(selectHosts(inv, "sfu")).toEqual(["sfu01", "sfu02", "sfu03"]);
    expect(selectHosts(inv, "sfu:!edge")).toEqual(["sfu01", "sfu03"]);
    expect(selectHosts(inv, "matrix:&edge")).toEqual(["sfu02"]);
    expect(selectHosts(inv, "proxy-*,hs1")).toEqual(["hs1", "proxy-a", "proxy-b"]);
    expect(selectHosts(inv, "all:!sfu01:!sfu02")).toEqual(["sfu03", "hs1", "proxy-a", "proxy-b", "loner"]);
  });

  it("reads group_vars and host_vars as files or folders of files", () => {
    const inv = loadInventory(
      inventory({
        "hosts.yaml": HOSTS,
        "group_vars/sfu/10-a.yaml": "from_folder: a\nshared: a\n",
        "group_vars/sfu/20-b.yml": "shared: b\n",
        "host_vars/hs1.yml": "ansible_port: 2200\n",
      }),
    );
    expect(inv.hosts.get("sfu01")!.vars).toMatchObject({ from_folder: "a", shared: "b" });
    expect(inv.hosts.get("hs1")!.vars.ansible_port).toBe(2200);
    expect(inv.hosts.get("hs1")!.origins.ansible_port).toMatch(/host_vars\/hs1\.yml$/);
  });

  it("resolves !secret from a private secrets store and !env from the environment, as secrets", () => {
    process.env.RIGGER_TEST_BECOME = "become-pass-from-env";
    const inv = loadInventory(
      inventory({
        "hosts.yaml":
          "all:\n  hosts:\n    h1:\n      token: !secret api_token\n      ansible_become_password: !env RIGGER_TEST_BECOME\n",
        "secrets.yaml": "api_token: t0ken-t0ken-t0ken-t0ken-t0ken-t0ken\n",
      }),
    );
    expect(inv.hosts.get("h1")!.vars).toMatchObject({
      token: "t0ken-t0ken-t0ken-t0ken-t0ken-t0ken",
      ansible_become_password: "become-pass-from-env",
    });
    expect(inv.secretValues).toEqual(
      expect.arrayContaining(["t0ken-t0ken-t0ken-t0ken-t0ken-t0ken", "become-pass-from-env"]),
    );
  });
});

describe("inventory errors name the file, the key and what was expected", () => {
  const error = (fn: () => unknown) => {
    try {
      fn();
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return (e as ConfigError).message;
    }
    throw new Error("expected a ConfigError");
  };

  it("a port that is not a port", () => {
    const dir = inventory({ "hosts.yaml": "all:\n  hosts:\n    h1:\n      ansible_port: twenty-two\n" });
    const inv = loadInventory(dir);
    expect(error(() => connectionVars(inv.hosts.get("h1")!))).toBe(
      `${dir}/hosts.yaml: h1.ansible_port: expected an integer port from 1 to 65535`,
    );
  });

  it("every refused connection setting of a host at once", () => {
    const dir = inventory({
      "hosts.yaml": "all:\n  hosts:\n    h1:\n      ansible_port: 70000\n      ansible_become: maybe\n",
    });
    const inv = loadInventory(dir);
    expect(error(() => connectionVars(inv.hosts.get("h1")!))).toBe(
      `2 connection settings refused:\n  ${dir}/hosts.yaml: h1.ansible_port: expected an integer port from 1 to 65535\n  ${dir}/hosts.yaml: h1.ansible_become: expected true or false`,
    );
  });

  it("an unknown key in a group, with the likely one", () => {
    const dir = inventory({ "hosts.yaml": "all:\n  children:\n    web:\n      host:\n        h1:\n" });
    expect(error(() => loadInventory(dir))).toBe(
      `${dir}/hosts.yaml: all.children.web.host: unknown key; a group has hosts, vars, children (did you mean "hosts"?)`,
    );
  });

  it("broken YAML, with its line, the key set twice named, no value shown", () => {
    const dir = inventory({ "hosts.yaml": "all:\n  hosts:\n    h1: {\n" });
    expect(error(() => loadInventory(dir))).toMatch(
      /hosts\.yaml: invalid YAML at line \d+, column \d+: [A-Z][^:]*[a-z}\]]$/,
    );
    const twice = inventory({
      "hosts.yaml": "all:\n  hosts:\n    h1:\n",
      "group_vars/all.yaml": "turn_secret: aaa\nlevel: 1\nturn_secret: bbb\n",
    });
    expect(error(() => loadInventory(twice))).toBe(
      `${twice}/group_vars/all.yaml: invalid YAML at line 3, column 1: Map keys must be unique (turn_secret is set twice)`,
    );
  });

  it("a secrets store others can read, and references to what is not there", () => {
    const dir = inventory({
      "hosts.yaml": "all:\n  hosts:\n    h1:\n      a: !secret missing\n",
      "secrets.yaml": "x: y\n",
    });
    expect(error(() => loadInventory(dir))).toBe(
      `${dir}/hosts.yaml: all.hosts.h1.a: !secret missing: not in the secrets store (secrets.yaml)`,
    );
    chmodSync(join(dir, "secrets.yaml"), 0o644);
    expect(error(() => loadInventory(dir))).toContain("secrets.yaml: is readable by every user");
    const env = inventory({ "hosts.yaml": "all:\n  vars:\n    p: !env RIGGER_TEST_NOT_SET\n  hosts:\n    h1:\n" });
    expect(error(() => loadInventory(env))).toContain(
      "all.vars.p: !env RIGGER_TEST_NOT_SET: the environment variable is not set",
    );
  });
});

describe("an inventory folder, read as Ansible reads one", () => {
  it("reads every file in it and its subfolders in name order, each group_vars/ and host_vars/ once, later files winning", () => {
    const dir = inventory({
      "production.ini": "[matrixrtc]\nhs1 ansible_host=10.0.0.1 level=ini\n",
      "staging/web.yml": "all:\n  hosts:\n    hs1: { level: yaml }\n    web1:\n",
      "group_vars/all.yaml": "from_group_vars: true\n",
      "host_vars/web1/vars.yml": "own: web1\n",
    });
    const inv = loadInventory(dir);
    expect([...inv.hosts.keys()]).toEqual(["hs1", "web1"]);
    expect(inv.hosts.get("hs1")!.vars).toMatchObject({
      ansible_host: "10.0.0.1",
      level: "yaml",
      from_group_vars: true,
    });
    expect(inv.hosts.get("web1")!.vars.own).toBe("web1");
    expect(inv.source).toBe(`${join(dir, "production.ini")}, ${join(dir, "staging", "web.yml")}`);
    expect(inv.warnings).toEqual([]);
  });

  it("leaves out what Ansible leaves out (hidden files, .md, .cfg, .retry, editor backups), the secrets store, and says which files are neither YAML nor INI", () => {
    const dir = inventory({
      "hosts.yaml": "all:\n  hosts:\n    h1:\n",
      ".hidden.yaml": "all:\n  hosts:\n    hidden:\n",
      "README.md": "# notes\n",
      "ansible.cfg": "[defaults]\n",
      "site.retry": "h9\n",
      "hosts.yaml~": "all:\n  hosts:\n    backup:\n",
      "secrets.yaml": "x: y\n",
      "secrets.recipients": "age1xyz\n",
      "secrets.yaml.lock": "123\n",
      "deploy.sh": "ssh h2 'port=22'\n",
    });
    const inv = loadInventory(dir);
    expect([...inv.hosts.keys()]).toEqual(["h1"]);
    expect(inv.warnings).toEqual([
      `${join(dir, "deploy.sh")}: not read (an inventory folder's files are YAML: .yaml, .yml, .json; or INI: .ini or no extension)`,
    ]);
  });

  it("skips, saying so, a file beside the hosts that is no inventory (a vars file, a report); a broken hosts file stays an error", () => {
    const dir = inventory({
      "hosts.yaml": "all:\n  hosts:\n    h1:\n",
      "limited.yaml": "jwt_full_access_homeservers: [a.example]\n",
      "extra.yml": "livekit_config_extra:\n  room: { empty_timeout: 60 }\n",
    });
    const inv = loadInventory(dir);
    expect([...inv.hosts.keys()]).toEqual(["h1"]);
    expect(inv.warnings).toEqual([
      `${join(dir, "extra.yml")}: not an inventory, so it is not read (not a group)`,
      `${join(dir, "limited.yaml")}: not an inventory, so it is not read (not a group)`,
    ]);
    const broken = inventory({
      "hosts.yaml": "all:\n  hosts:\n    h1: {\n",
      "other.yaml": "all:\n  hosts:\n    h2:\n",
    });
    expect(() => loadInventory(broken)).toThrow(/hosts\.yaml: invalid YAML/);
  });

  it("ignores host_vars and group_vars of hosts and groups it lacks (another inventory's, beside it), and says which look like a typo", () => {
    const dir = inventory({
      "hosts.yaml": "all:\n  children:\n    sfu:\n      hosts:\n        sfu01:\n",
      "host_vars/staging-sfu.yaml": "x: 1\n",
      "host_vars/sfu02.yaml": "x: 2\n",
      "group_vars/sfus.yaml": "y: 1\n",
    });
    const inv = loadInventory(dir);
    expect(inv.hosts.get("sfu01")!.vars).toEqual({});
    expect(inv.warnings).toEqual([
      `${join(dir, "group_vars", "sfus.yaml")}: no "sfus" in ${join(dir, "hosts.yaml")}, so it is not read; did you mean "sfu"?`,
      `${join(dir, "host_vars", "sfu02.yaml")}: no "sfu02" in ${join(dir, "hosts.yaml")}, so it is not read; did you mean "sfu01"?`,
    ]);
  });
});

describe("variable precedence, lowest first: role defaults, group all, parent group, child group, host, host_vars, play vars, role params, extra vars", () => {
  const role = defineRole({
    name: "probe",
    vars: z.object({ level: z.string().default("role default"), port: z.number().int().default(1) }),
    tasks: () => [],
  });
  const levelOf = (
    files: Record<string, string>,
    play: { vars?: Record<string, unknown>; params?: { level?: string }; extra?: Record<string, unknown> } = {},
  ) => {
    const inv = loadInventory(inventory(files));
    let seen: string | undefined;
    const spy = defineRole({ ...role, tasks: (vars) => ((seen = vars.level), []) });
    const playbook = definePlaybook([
      { name: "p", hosts: "all", vars: play.vars, roles: [use(spy, play.params ?? {})] },
    ]);
    preparePlaybook(playbook, inv, { playbookFile: "site.ts", extraVars: play.extra ?? {}, masker: new Masker() });
    return seen;
  };
  const base = (hostVars = "") =>
    `all:\n  children:\n    parent:\n      children:\n        child:\n          hosts:\n            h1: {${hostVars}}\n`;

  it("role default", () => expect(levelOf({ "hosts.yaml": base() })).toBe("role default"));
  it("group all over role default", () =>
    expect(levelOf({ "hosts.yaml": base(), "group_vars/all.yaml": "level: all\n" })).toBe("all"));
  it("parent group over all", () =>
    expect(
      levelOf({
        "hosts.yaml": base(),
        "group_vars/all.yaml": "level: all\n",
        "group_vars/parent.yaml": "level: parent\n",
      }),
    ).toBe("parent"));
  it("child group over parent group", () =>
    expect(
      levelOf({
        "hosts.yaml": base(),
        "group_vars/parent.yaml": "level: parent\n",
        "group_vars/child.yaml": "level: child\n",
      }),
    ).toBe("child"));
  it("host over child group", () =>
    expect(levelOf({ "hosts.yaml": base("level: host"), "group_vars/child.yaml": "level: child\n" })).toBe("host"));
  it("host_vars file over the host's inventory vars", () =>
    expect(levelOf({ "hosts.yaml": base("level: host"), "host_vars/h1.yaml": "level: host_vars\n" })).toBe(
      "host_vars",
    ));
  it("play vars over host_vars", () =>
    expect(
      levelOf({ "hosts.yaml": base(), "host_vars/h1.yaml": "level: host_vars\n" }, { vars: { level: "play" } }),
    ).toBe("play"));
  it("role params over play vars", () =>
    expect(levelOf({ "hosts.yaml": base() }, { vars: { level: "play" }, params: { level: "param" } })).toBe("param"));
  it("extra vars over everything", () =>
    expect(
      levelOf({ "hosts.yaml": base("level: host") }, { params: { level: "param" }, extra: { level: "extra" } }),
    ).toBe("extra"));

  it("a mistyped role variable is an error naming its file and key; a misspelt one a warning with the likely name", () => {
    const dir = inventory({ "hosts.yaml": base(), "group_vars/child.yaml": "port: eighty\nlevle: x\n" });
    const playbook = definePlaybook([{ name: "p", hosts: "all", roles: [role] }]);
    expect(() =>
      preparePlaybook(playbook, loadInventory(dir), { playbookFile: "site.ts", extraVars: {}, masker: new Masker() }),
    ).toThrow(`${dir}/group_vars/child.yaml: h1: port: `);
    const ok = inventory({ "hosts.yaml": base(), "group_vars/child.yaml": "levle: x\n" });
    const { warnings } = preparePlaybook(playbook, loadInventory(ok), {
      playbookFile: "site.ts",
      extraVars: {},
      masker: new Masker(),
    });
    expect(warnings).toEqual([
      `${ok}/group_vars/child.yaml: levle: not a variable of any role in this playbook; did you mean "level"?`,
    ]);
    // The same slip in -e gets the same answer.
    const extra = preparePlaybook(playbook, loadInventory(ok), {
      playbookFile: "site.ts",
      extraVars: { prot: 81 },
      masker: new Masker(),
    });
    expect(extra.warnings).toContain(
      'extra vars (-e): prot: not a variable of any role in this playbook; did you mean "port"?',
    );
  });
});
