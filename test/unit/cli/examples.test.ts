import { expect, it } from "vitest";
import { Masker } from "../../../src/engine/masker.js";
import { preparePlaybook } from "../../../src/engine/prepare.js";
import { loadInventory } from "../../../src/inventory/load.js";
import site from "../../../playbooks/site.js";

it("the README's deploy command: the bundled inventory and site playbook validate without a warning", () => {
  const inventory = loadInventory("inventory/dev2");
  const { plays, warnings } = preparePlaybook(site, inventory, { playbookFile: "playbooks/site.ts", extraVars: {}, masker: new Masker() });
  expect(warnings).toEqual([]);
  // One host, every role of the stack, in MATRIXRTC.md's rollout order.
  expect(plays.flatMap((p) => (p.hosts.get("dev2") ?? []).map((r) => r.name))).toEqual([
    "docker", "firewall", "caddy", "kernel", "livekit", "lk_jwt", "synapse", "coturn", "element_call", "call_probe",
  ]);
  expect(plays.find((p) => p.name === "redis")!.hosts.size).toBe(0);
});

const prepared = (inventory: string, extraVars: Record<string, unknown> = {}) =>
  preparePlaybook(site, loadInventory(inventory), { playbookFile: "playbooks/site.ts", extraVars, masker: new Masker() });

it("the fleet example: each host gets its group's roles, Redis and the nodes' API open to the right hosts only", () => {
  const { plays, warnings } = prepared("inventory/fleet");
  expect(warnings).toEqual([]);
  const rolesOf = (host: string) => plays.flatMap((p) => (p.hosts.get(host) ?? []).map((r) => r.name));
  expect(rolesOf("hs1")).toEqual(["docker", "firewall", "caddy", "redis", "lk_jwt", "synapse", "element_call", "call_probe"]);
  expect(rolesOf("sfu1")).toEqual(["docker", "firewall", "kernel", "livekit"]);
  expect(rolesOf("turn1")).toEqual(["docker", "firewall", "coturn"]);
  const firewallTask = (host: string) => plays[0]!.hosts.get(host)!.find((r) => r.name === "firewall")!.tasks.find((t) => t.name.startsWith("nftables"))!;
  expect(firewallTask("hs1").name).toBe("nftables table rigger: ssh 80/tcp 443/tcp 6379/tcp");
  expect(firewallTask("sfu2").name).toBe("nftables table rigger: ssh 7880/tcp 7881/tcp 7882/udp");
  expect(plays.find((p) => p.name === "sfu")!.serial).toEqual([1, "50%"]);
});

it("refuses, before any host is touched, a ufw firewall for ports open to some addresses only", () => {
  expect(() => prepared("inventory/fleet", { firewall_backend: "ufw" })).toThrow(
    /hs1: role firewall: firewall_backend ufw cannot open 6379\/tcp to some addresses only \(ufw does not filter ports Docker publishes\): use firewall_backend nftables/,
  );
});
