import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { $ } from "zx";
import { AuthenticationError, HostKeyError } from "../../src/connection/errors.js";
import { fingerprint } from "../../src/connection/known-hosts.js";
import { SshConnection } from "../../src/connection/ssh.js";
import { rigger, testInventory } from "../helpers/rigger.js";
import { describeHosts } from "../testbed/testbed.js";

describeHosts("connection: host keys and authentication", (testbed) => {
  let dir: string;
  let recorded: Map<string, string>;
  const knownHosts = (name: string) => join(dir, `${name}-known_hosts`);

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "rigger-conn-"));
    const lines = (await readFile(testbed().knownHostsFile, "utf8")).trim().split("\n");
    recorded = new Map(lines.map((line) => [line.split(" ")[0]!, line.split(" ").slice(1).join(" ")]));
  });
  afterAll(() => dir && rm(dir, { recursive: true }));

  it("refuses a host whose key differs from known_hosts, naming host and both fingerprints", async () => {
    const [th1, th2] = testbed().hosts;
    const file = knownHosts("mismatch");
    // th2's key recorded under th1's address: what a man in the middle would look like.
    await writeFile(file, `${th1!.ip} ${recorded.get(th2!.ip)}\n`);
    const error = await SshConnection.open({ ...testbed().target("th1"), knownHostsFile: file }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(HostKeyError);
    const expectedPrint = fingerprint(Buffer.from(recorded.get(th2!.ip)!.split(" ")[1]!, "base64"));
    const presentedPrint = fingerprint(Buffer.from(recorded.get(th1!.ip)!.split(" ")[1]!, "base64"));
    expect((error as HostKeyError).message).toContain("th1");
    expect((error as HostKeyError).message).toContain(expectedPrint);
    expect((error as HostKeyError).message).toContain(presentedPrint);
  });

  it("honours @revoked and @cert-authority lines: a revoked key is refused though also listed, an authority is named, not taken for a key", async () => {
    const th1 = testbed().hosts.find((h) => h.name === "th1")!;
    const line = `${th1.ip} ${recorded.get(th1.ip)!}`;
    const revoked = join(dir, "known_hosts.revoked");
    await writeFile(revoked, `${line}\n@revoked * ${recorded.get(th1.ip)!}\n`);
    const refused = await SshConnection.open({ ...testbed().target("th1"), knownHostsFile: revoked }).catch(
      (e: unknown) => e,
    );
    expect(refused).toBeInstanceOf(HostKeyError);
    expect((refused as Error).message).toContain(`is marked @revoked in ${revoked}: refused`);

    const authority = join(dir, "known_hosts.ca");
    await writeFile(
      authority,
      `@cert-authority ${th1.ip} ${recorded.get(testbed().hosts.find((h) => h.name === "th2")!.ip)!}\n`,
    );
    const named = await SshConnection.open({
      ...testbed().target("th1"),
      knownHostsFile: authority,
      acceptNewHostKeys: true,
    }).catch((e: unknown) => e);
    expect(named).toBeInstanceOf(HostKeyError);
    expect((named as Error).message).toContain("trusts a @cert-authority for");
    expect(await readFile(authority, "utf8")).not.toContain(`\n|1|`);
  });

  it("refuses an unknown host by default and records it, hashed, only when told to", async () => {
    const file = knownHosts("new");
    const target = { ...testbed().target("th2"), knownHostsFile: file };
    await expect(SshConnection.open(target)).rejects.toBeInstanceOf(HostKeyError);

    const accepted = await SshConnection.open({ ...target, acceptNewHostKeys: true });
    accepted.close();
    const written = await readFile(file, "utf8");
    expect(written).toMatch(/^\|1\|/);
    expect(written).not.toContain(testbed().hosts[1]!.ip);
    expect((await $`stat -c %a ${file}`).stdout.trim()).toBe("600");

    const strict = await SshConnection.open(target);
    expect((await strict.exec("hostname")).stdout).toBe("th2\n");
    strict.close();
  });

  it("reports a key the host does not accept as an authentication failure", async () => {
    const keyFile = join(dir, "stranger");
    await $`ssh-keygen -q -t ed25519 -N '' -f ${keyFile}`;
    const error = await SshConnection.open({ ...testbed().target("th3"), privateKeyFile: keyFile }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AuthenticationError);
    expect((error as Error).message).toContain("th3");
  });

  it("connects to a host known only by its ECDSA key, asking for that key type first", async () => {
    const th1 = testbed().hosts[0]!;
    const reader = await SshConnection.open(testbed().target("th1"));
    const ecdsa = (await reader.exec("cut -d' ' -f1,2 /etc/ssh/ssh_host_ecdsa_key.pub")).stdout.trim();
    reader.close();
    const file = knownHosts("ecdsa-only");
    await writeFile(file, `${th1.ip} ${ecdsa}\n`);
    const connection = await SshConnection.open({ ...testbed().target("th1"), knownHostsFile: file });
    expect((await connection.exec("hostname")).stdout).toBe("th1\n");
    connection.close();
  });

  it("logs in with a key that only the ssh-agent holds, when the inventory names no key file", async () => {
    const socket = join(dir, "agent.sock");
    const agent = $({ nothrow: true })`ssh-agent -D -a ${socket}`;
    const saved = { SSH_AUTH_SOCK: process.env.SSH_AUTH_SOCK, HOME: process.env.HOME };
    try {
      for (let i = 0; i < 50 && (await $({ nothrow: true })`test -S ${socket}`).exitCode !== 0; i++)
        await new Promise((r) => setTimeout(r, 100));
      await $({ env: { ...process.env, SSH_AUTH_SOCK: socket } })`ssh-add -q ${testbed().keyFile}`;
      // No default identity files either: only the agent can log in.
      Object.assign(process.env, { SSH_AUTH_SOCK: socket, HOME: dir });
      const connection = await SshConnection.open({ ...testbed().target("th2"), privateKeyFile: undefined });
      expect((await connection.exec("hostname")).stdout).toBe("th2\n");
      connection.close();
    } finally {
      Object.assign(process.env, saved);
      agent.kill();
    }
  });

  it("logs in with a passphrase-protected key file through the ssh-agent that holds it, and says what to do when none does", async () => {
    const locked = join(dir, "locked");
    await $`cp ${testbed().keyFile} ${locked}`;
    await $`ssh-keygen -q -p -P '' -N 'a passphrase' -f ${locked}`;
    const saved = process.env.SSH_AUTH_SOCK;
    const restore = () =>
      saved === undefined ? delete process.env.SSH_AUTH_SOCK : (process.env.SSH_AUTH_SOCK = saved);
    delete process.env.SSH_AUTH_SOCK;
    try {
      const refused = await SshConnection.open({ ...testbed().target("th2"), privateKeyFile: locked }).catch(
        (e: unknown) => e,
      );
      expect(refused).toBeInstanceOf(AuthenticationError);
      expect((refused as Error).message).toContain(`${locked} is passphrase-protected`);
      expect((refused as Error).message).toContain(`ssh-add ${locked}`);
    } finally {
      restore();
    }
    const socket = join(dir, "agent-locked.sock");
    const agent = $({ nothrow: true })`ssh-agent -D -a ${socket}`;
    try {
      for (let i = 0; i < 50 && (await $({ nothrow: true })`test -S ${socket}`).exitCode !== 0; i++)
        await new Promise((r) => setTimeout(r, 100));
      // What ssh-add does with the passphrase: the agent holds the key itself (here from its unprotected twin).
      await $({ env: { ...process.env, SSH_AUTH_SOCK: socket } })`ssh-add -q ${testbed().keyFile}`;
      process.env.SSH_AUTH_SOCK = socket;
      const connection = await SshConnection.open({ ...testbed().target("th2"), privateKeyFile: locked });
      expect((await connection.exec("hostname")).stdout).toBe("th2\n");
      connection.close();
    } finally {
      restore();
      agent.kill();
    }
  });

  it("exits 4 (unreachable, as Ansible) when the host refuses the key, saying so", async () => {
    const keyFile = join(dir, "refused");
    await $`ssh-keygen -q -t ed25519 -N '' -f ${keyFile}`;
    const inventory = testInventory({ "host_vars/th3.yaml": `ansible_ssh_private_key_file: ${keyFile}\n` });
    const result = await rigger("test/e2e/fixtures/faults.ts", "-i", inventory, "--limit", "th3");
    expect(result.code).toBe(4);
    expect(result.out).toContain(`th3: authentication failed for user root: ${keyFile} was refused`);
  });

  it("runs commands concurrently over one connection and returns exit codes and both streams", async () => {
    const connection = await SshConnection.open(testbed().target("th1"));
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => connection.exec(`echo out${i}; echo err${i} >&2; exit ${i % 3}`)),
    );
    results.forEach((result, i) => expect(result).toEqual({ code: i % 3, stdout: `out${i}\n`, stderr: `err${i}\n` }));
    const sshd = await connection.exec("cat", "fed through stdin");
    expect(sshd.stdout).toBe("fed through stdin");
    connection.close();
  });
});
