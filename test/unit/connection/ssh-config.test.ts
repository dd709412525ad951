import { userInfo } from "node:os";
import { expect, it } from "vitest";
import { sshTarget } from "../../../src/cli/targets.js";
import { parseJump, parseSshConfig, sshConfigFor } from "../../../src/connection/ssh-config.js";

const CONFIG = `
# options before any Host apply to all
User fallback
Host sfu-* !sfu-legacy
  HostName %h.media.example.org
  Port 2222
  IdentityFile ~/.ssh/sfu_key
  ProxyJump admin@bastion.example.org:2200
Host bastion.example.org
  User jumper
Match exec "false"
  User never
Host *
  User everyone
  Port 22
`;

it("takes the first value of each option from the blocks that match, as OpenSSH does", () => {
  const blocks = parseSshConfig(CONFIG);
  expect(sshConfigFor(blocks, "sfu-01")).toEqual({
    hostName: "sfu-01.media.example.org",
    user: "fallback",
    port: 2222,
    identityFile: expect.stringMatching(/\/\.ssh\/sfu_key$/),
    proxyJump: ["admin@bastion.example.org:2200"],
  });
  expect(sshConfigFor(blocks, "sfu-legacy")).toMatchObject({ hostName: undefined, port: 22, proxyJump: undefined });
  expect(parseJump("admin@[::1]:2200")).toEqual({ user: "admin", host: "::1", port: 2200 });
  expect(parseJump("bastion")).toEqual({ user: undefined, host: "bastion", port: undefined });
});

it("resolves a target: inventory variables first, then ssh config, then defaults, with the jump chain", () => {
  const blocks = parseSshConfig("Host sfu\n  HostName 10.0.0.7\n  User ops\n  ProxyJump jump1,jump2:2022\nHost jump1\n  HostName 192.0.2.1\n");
  const common = { knownHostsFile: "/kh" };
  const target = sshTarget("sfu", { ansible_port: 2200, ansible_become: false, ansible_become_user: "root", rigger_known_hosts_file: "/kh" }, blocks, common);
  expect(target).toMatchObject({ name: "sfu", host: "10.0.0.7", port: 2200, user: "ops" });
  expect(target.jump).toMatchObject({ host: "jump2", port: 2022, jump: { host: "192.0.2.1", port: 22, jump: undefined } });

  const plain = sshTarget("h", { ansible_host: "198.51.100.4", ansible_ssh_common_args: "-o ProxyJump=root@gw", ansible_become: false, ansible_become_user: "root", rigger_known_hosts_file: "/kh" }, [], common);
  expect(plain).toMatchObject({ host: "198.51.100.4", port: 22, user: userInfo().username, jump: { host: "gw", user: "root" } });
});
