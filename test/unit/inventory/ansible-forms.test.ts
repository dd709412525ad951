/**
 * Inventories as Ansible users have them: INI (matrix-docker-ansible-deploy's habit), several -i,
 * host lists. Judged against ansible-inventory 2.14: its output for the fixture is recorded, and
 * when ansible-inventory is installed it is asked again, live.
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { listInventory } from "../../../src/cli/list-inventory.js";
import { main } from "../../../src/cli/main.js";
import { connectionVars, connectionWarnings } from "../../../src/inventory/connection-vars.js";
import { ConfigError } from "../../../src/inventory/errors.js";
import { iniValue } from "../../../src/inventory/ini.js";
import { loadInventory } from "../../../src/inventory/load.js";

const FIXTURES = "test/unit/inventory/fixtures/mdad";
const recorded = JSON.parse(readFileSync(join(FIXTURES, "ansible-inventory.json"), "utf8")) as unknown;
const listed = (...paths: string[]) => JSON.parse(JSON.stringify(listInventory(loadInventory(paths))));

function ansibleInventory(...paths: string[]): unknown {
  try {
    return JSON.parse(
      execFileSync("ansible-inventory", [...paths.flatMap((p) => ["-i", p]), "--list"], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
      }),
    );
  } catch {
    return undefined;
  }
}

it("reads an MDAD-style INI inventory and its YAML twin exactly as ansible-inventory --list does", () => {
  expect(listed(join(FIXTURES, "hosts"))).toEqual(recorded);
  expect(listed(join(FIXTURES, "hosts.yaml"))).toEqual(recorded);
  const live = ansibleInventory(join(FIXTURES, "hosts"));
  if (live !== undefined) expect(listed(join(FIXTURES, "hosts"))).toEqual(live);
});

it("reads INI values as Ansible does (Python literals, else the text)", () => {
  expect([iniValue("3"), iniValue("-2"), iniValue("1.5"), iniValue("True"), iniValue("None")]).toEqual([
    3,
    -2,
    1.5,
    true,
    null,
  ]);
  expect([iniValue("false"), iniValue("yes"), iniValue("203.0.113.10"), iniValue("'x y'"), iniValue('"q"')]).toEqual([
    "false",
    "yes",
    "203.0.113.10",
    "x y",
    "q",
  ]);
  expect(iniValue("['a', 'b']")).toEqual(["a", "b"]);
});

it("merges several -i in order, later ones winning, and reads host1,host2, as a host list", () => {
  const dir = mkdtempSync(join(tmpdir(), "rigger-forms-"));
  writeFileSync(join(dir, "more.ini"), "[sfu]\nsfu03.example.org\n[matrixrtc:vars]\ntitle=second\n");
  const merged = loadInventory([join(FIXTURES, "hosts"), join(dir, "more.ini")]);
  expect([...merged.groups.get("sfu")!.hosts]).toEqual(["sfu01.example.org", "sfu02.example.org", "sfu03.example.org"]);
  expect(merged.hosts.get("matrix.example.org")!.vars.title).toBe("second");
  const live = ansibleInventory(join(FIXTURES, "hosts"), join(dir, "more.ini"));
  if (live !== undefined) expect(listed(join(FIXTURES, "hosts"), join(dir, "more.ini"))).toEqual(live);
  const list = loadInventory("a1.example.org,b1.example.org,");
  expect([...list.hosts.keys()]).toEqual(["a1.example.org", "b1.example.org"]);
  expect(listed("a1.example.org,b1.example.org,")).toEqual({
    _meta: { hostvars: {} },
    all: { children: ["ungrouped"] },
    ungrouped: { hosts: ["a1.example.org", "b1.example.org"] },
  });
});

it("says where an INI inventory is wrong", () => {
  const dir = mkdtempSync(join(tmpdir(), "rigger-forms-"));
  writeFileSync(join(dir, "bad.ini"), "[sfu]\nsfu01 public_ip\n");
  expect(() => loadInventory(join(dir, "bad.ini"))).toThrow(ConfigError);
  expect(() => loadInventory(join(dir, "bad.ini"))).toThrow(
    /bad\.ini: line 2, host sfu01: expected key=value, got a word without "=" \(9 characters, not shown: it may be a secret\)/,
  );
  // A secret pasted without its name is never printed.
  writeFileSync(join(dir, "pasted.ini"), "[sfu]\nsfu01 Zq8s7KJ2mN4pXw9vB3tL6yR1\n");
  expect(() => loadInventory(join(dir, "pasted.ini"))).toThrow(/^(?!.*Zq8s7).*expected key=value/s);
});

it("masks *_pass and *_passphrase values in --list-inventory", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rigger-forms-"));
  writeFileSync(
    join(dir, "hosts"),
    "[web]\nweb1 ansible_become_pass=s3cret-b3come ansible_ssh_pass=s3cret-l0gin key_passphrase=s3cret-phrase\n",
  );
  const out: string[] = [];
  expect(await main(["--list-inventory", "-i", join(dir, "hosts")], { out: (l) => out.push(l), err: () => {} })).toBe(
    0,
  );
  expect(JSON.parse(out.join("\n"))._meta.hostvars.web1).toEqual({
    ansible_become_pass: "********",
    ansible_ssh_pass: "********",
    key_passphrase: "********",
  });
});

it("maps Ansible's other names of the connection variables, and refuses or warns about the ones it cannot honour, with the reason", () => {
  const dir = mkdtempSync(join(tmpdir(), "rigger-forms-"));
  const write = (text: string) => (writeFileSync(join(dir, "hosts"), text), loadInventory(join(dir, "hosts")));
  const aliased = write(
    "[web]\nweb1 ansible_ssh_host=192.0.2.7 ansible_ssh_port=2222 ansible_ssh_user=ops ansible_become=true ansible_become_pass=b3come-b3come\n",
  );
  expect(connectionVars(aliased.hosts.get("web1")!)).toMatchObject({
    ansible_host: "192.0.2.7",
    ansible_port: 2222,
    ansible_user: "ops",
    ansible_become: true,
    ansible_become_password: "b3come-b3come",
  });
  // The canonical name wins over an alias.
  expect(
    connectionVars(write("[web]\nweb1 ansible_ssh_user=old ansible_user=new\n").hosts.get("web1")!).ansible_user,
  ).toBe("new");
  expect(() => connectionVars(write("[web]\nweb1 ansible_ssh_port=ssh\n").hosts.get("web1")!)).toThrow(
    /hosts: web1\.ansible_ssh_port: expected an integer port/,
  );
  expect(() => connectionVars(write("[web]\nweb1 ansible_password=l0gin-l0gin\n").hosts.get("web1")!)).toThrow(
    /web1\.ansible_password: rigger logs in with keys only/,
  );
  expect(() => connectionVars(write("[web]\nweb1 ansible_connection=local\n").hosts.get("web1")!)).toThrow(
    /web1\.ansible_connection: rigger reaches every host over SSH; connection "local" is not supported/,
  );
  expect(connectionVars(write("[web]\nweb1 ansible_connection=ssh\n").hosts.get("web1")!)).toMatchObject({
    ansible_become: false,
  });
  const python = write(
    "[web]\nweb1 ansible_python_interpreter=/usr/bin/python3\nweb2 ansible_python_interpreter=/usr/bin/python3\n",
  );
  expect(connectionWarnings([...python.hosts.values()])).toEqual([
    `${join(dir, "hosts")}: ansible_python_interpreter: ignored: rigger runs nothing of its own on a host, so it needs no Python there`,
  ]);
});

it("reads a hosts file of host lines alone (no section, addresses with colons) as INI, as Ansible does", () => {
  const dir = mkdtempSync(join(tmpdir(), "rigger-forms-"));
  writeFileSync(join(dir, "hosts"), "# no section\nweb1 ansible_host=2001:db8::7\nweb2 ansible_port=2222\n");
  const inventory = loadInventory(join(dir, "hosts"));
  expect([...inventory.groups.get("ungrouped")!.hosts]).toEqual(["web1", "web2"]);
  expect(inventory.hosts.get("web1")!.vars.ansible_host).toBe("2001:db8::7");
  const live = ansibleInventory(join(dir, "hosts"));
  if (live !== undefined) expect(listed(join(dir, "hosts"))).toEqual(live);
});
