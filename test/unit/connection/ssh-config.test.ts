import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { homedir, tmpdir, userInfo } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { sshTarget } from "../../../src/cli/targets.js";
import { NO_SSH_CONFIG, openSshConfig, parseJump } from "../../../src/connection/ssh-config.js";

/** A config as operators keep theirs: options before any Host, an Include of a folder, a Match, negated patterns. */
function configFiles(): string {
  const dir = mkdtempSync(join(tmpdir(), "rigger-sshcfg-"));
  mkdirSync(join(dir, "config.d"));
  writeFileSync(
    join(dir, "config.d", "media"),
    "Host sfu-* !sfu-legacy\n  HostName %h.media.example.org\n  Port 2222\n  IdentityFile ~/.ssh/sfu_key\n  ProxyJump admin@bastion.example.org:2200\n",
  );
  writeFileSync(
    join(dir, "config"),
    `User fallback\nInclude ${join(dir, "config.d")}/*\nMatch host turn1\n  Port 9\nHost bastion.example.org\n  User jumper\nHost old\n  ProxyCommand nc %h %p\nHost *\n  User everyone\n`,
  );
  return join(dir, "config");
}

it("reads OpenSSH's config as OpenSSH does (ssh -G): Include, Match and tokens applied, its defaults left out", async () => {
  const config = openSshConfig(configFiles());
  expect(await config.lookup("sfu-01")).toEqual({
    hostName: "sfu-01.media.example.org",
    user: "fallback",
    port: 2222,
    identityFile: join(homedir(), ".ssh", "sfu_key"),
    proxyJump: ["admin@bastion.example.org:2200"],
  });
  expect(await config.lookup("sfu-legacy")).toEqual({ user: "fallback" });
  expect(await config.lookup("turn1")).toMatchObject({ port: 9 });
  await expect(config.lookup("old")).rejects.toThrow(/old: ProxyCommand is not something rigger runs .*use ProxyJump/);
  expect(await openSshConfig("/nonexistent/config").lookup("sfu-01")).toEqual({});
  expect(parseJump("admin@[::1]:2200")).toEqual({ user: "admin", host: "::1", port: 2200 });
  expect(parseJump("bastion")).toEqual({ user: undefined, host: "bastion", port: undefined });
});

it("resolves a target: inventory variables first, then ssh config, then defaults, with the jump chain", async () => {
  const dir = mkdtempSync(join(tmpdir(), "rigger-sshcfg-"));
  writeFileSync(
    join(dir, "config"),
    "Host sfu\n  HostName 10.0.0.7\n  User ops\n  ProxyJump jump1,jump2:2022\nHost jump1\n  HostName 192.0.2.1\n",
  );
  const config = openSshConfig(join(dir, "config"));
  const common = { knownHostsFile: "/kh" };
  const target = await sshTarget(
    "sfu",
    { ansible_port: 2200, ansible_become: false, ansible_become_user: "root", rigger_known_hosts_file: "/kh" },
    config,
    common,
  );
  expect(target).toMatchObject({ name: "sfu", host: "10.0.0.7", port: 2200, user: "ops" });
  expect(target.jump).toMatchObject({
    host: "jump2",
    port: 2022,
    jump: { host: "192.0.2.1", port: 22, jump: undefined },
  });

  const plain = await sshTarget(
    "h",
    {
      ansible_host: "198.51.100.4",
      ansible_ssh_common_args: "-o ProxyJump=root@gw",
      ansible_become: false,
      ansible_become_user: "root",
      rigger_known_hosts_file: "/kh",
    },
    NO_SSH_CONFIG,
    common,
  );
  expect(plain).toMatchObject({
    host: "198.51.100.4",
    port: 22,
    user: userInfo().username,
    jump: { host: "gw", user: "root" },
  });
});
