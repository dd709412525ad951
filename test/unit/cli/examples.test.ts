import { expect, it } from "vitest";
import { Masker } from "../../../src/engine/masker.js";
import { preparePlaybook } from "../../../src/engine/prepare.js";
import { loadInventory } from "../../../src/inventory/load.js";
import site from "../../../playbooks/site.js";

it("the README's deploy command: the bundled inventory and site playbook validate without a warning", () => {
  const inventory = loadInventory("inventory/dev2");
  const { plays, warnings } = preparePlaybook(site, inventory, { playbookFile: "playbooks/site.ts", extraVars: {}, masker: new Masker() });
  expect(warnings).toEqual([]);
  expect([...plays[0]!.hosts.keys()]).toEqual(["dev2"]);
  expect(plays[0]!.hosts.get("dev2")!.map((r) => r.name)).toEqual(["docker", "kernel", "firewall"]);
});
