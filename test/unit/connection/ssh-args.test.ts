import { expect, it } from "vitest";
import { readSshArgs } from "../../../src/connection/ssh-args.js";

it("takes a ProxyJump however Ansible users write it, and lets connection sharing and compression pass", () => {
  expect(readSshArgs("-J admin@gw:2200,inner")).toEqual({ proxyJump: ["admin@gw:2200", "inner"] });
  expect(readSshArgs("-Jgw")).toEqual({ proxyJump: ["gw"] });
  expect(readSshArgs("-o ProxyJump=root@gw -C")).toEqual({ proxyJump: ["root@gw"] });
  expect(readSshArgs("-o 'ProxyJump gw'")).toEqual({ proxyJump: ["gw"] });
  expect(readSshArgs("-C -o ControlMaster=auto -o ControlPersist=60s -oServerAliveInterval=30")).toEqual({});
  expect(readSshArgs(undefined)).toEqual({});
});

it("refuses what it cannot honour, naming it and what to do instead", () => {
  expect(() => readSshArgs("-o StrictHostKeyChecking=no")).toThrow(
    "-o stricthostkeychecking: rigger checks every host key",
  );
  expect(() => readSshArgs("-o ProxyCommand='ssh -W %h:%p gw'")).toThrow("use ProxyJump (-J)");
  expect(() => readSshArgs("-p 2222")).toThrow("-p: not an ssh argument rigger can honour");
  expect(() => readSshArgs("-o Ciphers=aes128-ctr")).toThrow("-o ciphers: not an ssh option rigger can honour");
  expect(() => readSshArgs("-J")).toThrow("-J: expected [user@]host[:port] hops");
});
