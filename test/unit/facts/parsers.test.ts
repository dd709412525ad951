import { expect, it } from "vitest";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { $ } from "zx";
import { sha256Hex } from "../../../src/common/hash.js";
import { batchScript, defineFact, FactReadError, parseBatch } from "../../../src/facts/fact.js";
import { HostSession } from "../../../src/engine/host-session.js";
import type { SshConnection } from "../../../src/connection/ssh.js";
import { containerFact } from "../../../src/facts/docker.js";
import { fileFact } from "../../../src/facts/file.js";
import { aptListsAgeFact, debPackagesFact } from "../../../src/facts/packages.js";
import { unitFact } from "../../../src/facts/systemd.js";
import { sysctlFact } from "../../../src/facts/sysctl.js";
import { addressesFact } from "../../../src/facts/addresses.js";
import { ownAddresses } from "../../../src/ops/addresses.js";

/** The message of the first fact of a batch that could not be read: kept as its value, thrown where the fact is used. */
const failedRead = (values: Map<string, unknown>) =>
  [...values.values()].find((value): value is FactReadError => value instanceof FactReadError)?.message;

it("frames each fact's output with a nonce so facts cannot bleed into each other", () => {
  const facts = [defineFact("a", "echo one", (out) => out), defineFact("b", "exit 3", (out, code) => ({ out, code }))];
  const script = batchScript(facts, "@@n0nce");
  expect(script.split("\n")).toHaveLength(19);
  expect(script.startsWith("export LC_ALL=C\n")).toBe(true);
  // what sh would print for that script, including output that imitates a marker of another nonce
  const output = "\n@@n0nce 0 begin\none\n@@other 1 end 0\n\n@@n0nce 0 end 0\n\n@@n0nce 1 begin\n\n@@n0nce 1 end 3\n";
  const values = parseBatch(facts, "@@n0nce", output);
  expect(values.get("a")).toBe("one\n@@other 1 end 0\n");
  expect(values.get("b")).toEqual({ out: "", code: 3 });
  expect(() => parseBatch(facts, "@@n0nce", "\n@@n0nce 0 begin\nx")).toThrow("fact a");
});

it("keeps the framing whatever a snippet holds: a comment, quotes, a here-doc; and names a fact that cannot be read", async () => {
  const facts = [
    defineFact("comment", "echo one # a comment", (out) => out),
    defineFact("heredoc", "cat <<'EOF'\nit's \"quoted\"\nEOF", (out) => out),
    defineFact("locale", "echo $LC_ALL", (out) => out),
    defineFact("unreadable", "exit 1", () => {
      throw new Error("no permission");
    }),
  ];
  const output = (await $`sh -c ${batchScript(facts, "@@n")}`).stdout;
  expect(failedRead(parseBatch(facts, "@@n", output))).toContain("fact unreadable could not be read: no permission");
  const values = parseBatch(facts.slice(0, 3), "@@n", output);
  expect([...values.values()]).toEqual(["one\n", 'it\'s "quoted"\n', "C\n"]);
});

it("reads the facts of a batch at once, not one after another, and leaves no temporary files", async () => {
  const facts = [1, 2, 3, 4].map((i) => defineFact(`slow${i}`, `sleep 0.4; echo ${i}; echo "$d" >&2`, (out) => out));
  const started = Date.now();
  const output = (await $`sh -c ${batchScript(facts, "@@n")}`).stdout;
  expect(Date.now() - started).toBeLessThan(1200);
  expect([...parseBatch(facts, "@@n", output).values()]).toEqual(["1\n", "2\n", "3\n", "4\n"]);
  const dir = (await $`sh -c ${`${batchScript([defineFact("dir", 'echo "$d"', (out) => out)], "@@n")}`}`).stdout.split(
    "\n",
  )[2]!;
  expect((await $({ nothrow: true })`test -e ${dir}`).exitCode).toBe(1);
});

it("reads the files of a batch with one stat and one sha256sum, each fact's value what it reads alone", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rigger-files-"));
  writeFileSync(join(dir, "file"), "content\n");
  writeFileSync(join(dir, "empty"), "");
  writeFileSync(join(dir, "it's a\nname"), "odd\n");
  symlinkSync(join(dir, "file"), join(dir, "link"));
  mkdirSync(join(dir, "closed"));
  writeFileSync(join(dir, "closed", "inside"), "");
  chmodSync(dir, 0o755);
  const paths = [
    dir,
    ...["file", "empty", "it's a\nname", "link", "absent", "closed/absent"].map((name) => join(dir, name)),
  ];
  const facts = paths.map((path) => fileFact(path));
  const script = batchScript(facts, "@@n");
  expect(script.match(/\bstat\b/g)).toHaveLength(1);
  expect(script.match(/\bsha256sum\b/g)).toHaveLength(1);
  const together = parseBatch(facts, "@@n", (await $`sh -c ${script}`).stdout);
  for (const fact of facts) {
    const alone = parseBatch([fact], "@@n", (await $`sh -c ${batchScript([fact], "@@n")}`).stdout);
    expect(together.get(fact.key)).toEqual(alone.get(fact.key));
  }
  expect(together.get(fileFact(join(dir, "it's a\nname")).key)).toMatchObject({
    type: "file",
    sha256: sha256Hex("odd\n"),
  });
  expect(together.get(fileFact(join(dir, "absent")).key)).toEqual({ exists: false });
  // Behind a directory its user cannot search: unreadable, as when read alone, never absent.
  chmodSync(join(dir, "closed"), 0o700);
  const closed = [fileFact(join(dir, "file")), fileFact(join(dir, "closed", "inside"))];
  const asNobody = (await $`runuser -u nobody -- sh -c ${batchScript(closed, "@@n")}`).stdout;
  expect(failedRead(parseBatch(closed, "@@n", asNobody))).toContain(
    `fact file:${join(dir, "closed", "inside")} could not be read: stat ${join(dir, "closed", "inside")} failed (exit 1)`,
  );
  rmSync(dir, { recursive: true });
});

it("reads the units of a batch with one systemctl show, and refuses output it cannot part", () => {
  const facts = ["a.service", "b.service"].map(unitFact);
  const script = batchScript(facts, "@@n");
  expect(script).toContain("systemctl show -p LoadState,ActiveState,UnitFileState a.service b.service");
  const framed = (body: string) => `\n@@n 0 begin\n${body}\n@@n 0 end 0\n`;
  const values = parseBatch(
    facts,
    "@@n",
    framed(
      "LoadState=loaded\nActiveState=active\nUnitFileState=enabled\n\nLoadState=not-found\nActiveState=inactive\nUnitFileState=",
    ),
  );
  expect([...values.values()]).toEqual([
    { loaded: true, active: "active", enabled: "enabled" },
    { loaded: false, active: "inactive", enabled: "" },
  ]);
  expect(failedRead(parseBatch(facts, "@@n", framed("LoadState=loaded")))).toContain(
    "facts unit:a.service, unit:b.service could not be read: systemctl show printed 1 blocks for 2 units",
  );
  // No systemctl there: each unit not loaded, as when read alone.
  const absent = "\n@@n 0 begin\n\n@@n 0 end 100\n";
  expect([...parseBatch(facts, "@@n", absent).values()]).toEqual([
    { loaded: false, active: "unknown", enabled: "" },
    { loaded: false, active: "unknown", enabled: "" },
  ]);
  expect(unitFact("a.service").parse("", 100)).toEqual({ loaded: false, active: "unknown", enabled: "" });
  // A systemctl that cannot answer is a failed read, not units that are not there.
  const noBus = "Failed to connect to bus: No such file or directory";
  expect(failedRead(parseBatch(facts, "@@n", `\n@@n 0 begin\n${noBus}\n@@n 0 end 1\n`))).toContain(
    `could not be read: systemctl could not answer: ${noBus}`,
  );
  expect(() => unitFact("a.service").parse(noBus, 1)).toThrow(noBus);
});

it("reads the containers of a batch with one docker container inspect, each found by its name, else by a prefix of its id", () => {
  const facts = ["web", "db", "gone", "0123abc"].map(containerFact);
  expect(batchScript(facts, "@@n").match(/docker container inspect/g)).toHaveLength(1);
  // What Docker prints for those four: a line for each container it found, in no order we rely on, and exit 1 for the missing one.
  const found =
    "aaaa1111 /web true sha256:img1 h1\n0123abcdef99 /other false sha256:img2 <no value>\nffff2222 /db true sha256:img3 h3\n";
  expect([...parseBatch(facts, "@@n", `\n@@n 0 begin\n${found}\n@@n 0 end 1\n`).values()]).toEqual([
    { exists: true, running: true, imageId: "sha256:img1", specHash: "h1" },
    { exists: true, running: true, imageId: "sha256:img3", specHash: "h3" },
    { exists: false },
    { exists: true, running: false, imageId: "sha256:img2", specHash: undefined },
  ]);
  // Docker's word for the missing one, among the others, is "not there"; a daemon that cannot be asked is a failed read.
  const withMissing = `${found}Error: No such container: gone\n`;
  expect([...parseBatch(facts, "@@n", `\n@@n 0 begin\n${withMissing}\n@@n 0 end 1\n`).values()][2]).toEqual({
    exists: false,
  });
  const down = "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?";
  expect(failedRead(parseBatch(facts, "@@n", `\n@@n 0 begin\n${down}\n@@n 0 end 1\n`))).toContain(
    `docker could not tell about the containers: ${down}`,
  );
  expect(() => containerFact("web").parse(down, 1)).toThrow(down);
  expect(containerFact("web").parse("Error: No such container: web", 1)).toEqual({ exists: false });
  expect(containerFact("web").parse("", 100)).toEqual({ exists: false });
});

it("parses stat output into a file state, with content when asked", () => {
  expect(fileFact("/x").parse("regular file|640|root|adm|0|4\nabc123\n", 0)).toEqual({
    exists: true,
    type: "file",
    mode: 0o640,
    owner: "root",
    group: "adm",
    uid: "0",
    gid: "4",
    sha256: "abc123",
    content: undefined,
  });
  expect(
    fileFact("/x", true).parse(`regular file|600|root|root|0|0\nabc\n${Buffer.from("PORT=1\n").toString("base64")}`, 0)
      .content,
  ).toBe("PORT=1\n");
  expect(fileFact("/d").parse("directory|755|root|root|0|0\n", 0)).toMatchObject({
    exists: true,
    type: "directory",
    mode: 0o755,
    sha256: undefined,
  });
  expect(fileFact("/nope").parse("", 100)).toEqual({ exists: false });
  // Could not be read (no permission): an error naming the path, never "absent".
  expect(() => fileFact("/root/x").parse("", 1)).toThrow("stat /root/x failed (exit 1)");
  expect(fileFact("/x").key).not.toBe(fileFact("/x", true).key);
  // A container's user has no name on the host: its numeric id stands in.
  expect(fileFact("/k").parse("regular file|600|UNKNOWN|UNKNOWN|991|991\nabc\n", 0)).toMatchObject({
    owner: "991",
    group: "991",
  });
});

it("parses dpkg-query and apt-cache policy output", () => {
  const out =
    "curl|ii |7.88.1-10\njq|rc |1.6\n---\ncurl:\n  Installed: 7.88.1-10\n  Candidate: 7.88.1-10+deb12u8\njq:\n  Installed: (none)\n  Candidate: 1.6-2.1\n";
  expect(debPackagesFact(["jq", "curl"], true).parse(out, 0)).toEqual({
    curl: { installed: true, version: "7.88.1-10", candidate: "7.88.1-10+deb12u8" },
    jq: { installed: false, candidate: "1.6-2.1" },
  });
  expect(debPackagesFact(["nope"]).parse("", 1)).toEqual({ nope: { installed: false } });
  expect(aptListsAgeFact.parse("", 1)).toBe(Number.POSITIVE_INFINITY);
  expect(aptListsAgeFact.parse("42\n", 0)).toBe(42);
});

it("parses systemctl show and sysctl output", () => {
  expect(unitFact("a.service").parse("LoadState=loaded\nActiveState=active\nUnitFileState=enabled\n", 0)).toEqual({
    loaded: true,
    active: "active",
    enabled: "enabled",
  });
  expect(unitFact("b.service").parse("LoadState=not-found\nActiveState=inactive\nUnitFileState=\n", 0)).toMatchObject({
    loaded: false,
  });
  expect(sysctlFact("net.ipv4.tcp_rmem").parse("4096\t131072\t6291456\n", 0)).toBe("4096 131072 6291456");
  expect(sysctlFact("no.such").parse("", 255)).toBeUndefined();
});

it("keeps a fact that could not be read as a failure of the task that uses it, not of the whole batch", async () => {
  const fine = defineFact("fine", "echo fine", (out) => out.trim());
  const broken = containerFact("web");
  // A host whose Docker daemon is down: the batch answers, the container fact says why it has no value.
  const connection = {
    exec: async (command: string) => {
      const nonce = /@@rigger-[0-9a-f]+/.exec(command)![0];
      const frame = (i: number, body: string, code: number) =>
        `\n${nonce} ${i} begin\n${body}\n${nonce} ${i} end ${code}\n`;
      return { code: 0, stdout: frame(0, "fine", 0) + frame(1, "Cannot connect to the Docker daemon", 1), stderr: "" };
    },
  } as unknown as SshConnection;
  const session = new HostSession({ name: "h", connection, takeLock: false, openAnother: async () => connection });
  await session.gather([fine, broken]);
  expect(session.value(fine)).toBe("fine");
  expect(session.known(broken)).toBeUndefined();
  expect(() => session.value(broken)).toThrow(
    "fact container:web could not be read: docker could not tell about container web: Cannot connect to the Docker daemon",
  );
});

it("reads the host's own addresses from ip -o addr, and refuses to listen on one it lacks", () => {
  const ip = [
    "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever",
    "1: lo    inet6 ::1/128 scope host \\       valid_lft forever preferred_lft forever",
    "2: eth0    inet 172.30.0.12/24 brd 172.30.0.255 scope global eth0\\       valid_lft forever",
    "2: eth0    inet 172.30.0.250/24 scope global secondary eth0\\       valid_lft forever",
    "2: eth0    inet6 FE80::42:acff:fe1e:c/64 scope link \\       valid_lft forever",
  ].join("\n");
  const own = addressesFact.parse(ip, 0);
  expect(own).toEqual(["127.0.0.1", "::1", "172.30.0.12", "172.30.0.250", "fe80::42:acff:fe1e:c"]);
  expect(() => addressesFact.parse("ip: command not found\n", 127)).toThrow("ip: command not found");
  const bind = ownAddresses({ addresses: ["172.30.0.12", "127.0.0.1"], setting: "caddy_bind" });
  expect(bind.plan({ own })).toEqual([]);
  const behindNat = ownAddresses({ addresses: ["203.0.113.7"], setting: "turn_ip" });
  expect(() => behindNat.plan({ own })).toThrow(
    "turn_ip: 203.0.113.7 is not an address of this host (it has 127.0.0.1, ::1, 172.30.0.12, 172.30.0.250, fe80::42:acff:fe1e:c)",
  );
});
