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
    "docker", "firewall", "caddy", "kernel", "livekit", "lk_jwt", "synapse", "coturn", "element_call",
  ]);
  expect(plays.find((p) => p.name === "redis")!.hosts.size).toBe(0);
});
