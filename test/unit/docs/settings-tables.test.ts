/** Every role README's settings table is the one its schema makes: a setting added, renamed, re-defaulted or re-explained in code shows here. */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { documentedRoles, ROLES_DIR, settingsOf, settingsTable, withTable } from "../../docs/settings-table.js";

const roles = documentedRoles();
const settings = await settingsOf(roles);

it.each(roles)("roles/%s/README.md holds the settings table of its schema (npm run docs writes it)", (role) => {
  const readme = readFileSync(join(ROLES_DIR, role, "README.md"), "utf8");
  expect(readme).toBe(withTable(readme, settingsTable(settings.get(role)!)));
});

it("explains every setting of every role, and names each default as the schema sets it", () => {
  const unexplained = [...settings].flatMap(([role, list]) =>
    list.filter((s) => !s.meaning).map((s) => `${role}: ${s.name}`),
  );
  expect(unexplained).toEqual([]);
  const coturn = settings.get("coturn")!;
  expect(coturn.find((s) => s.name === "coturn_relay_range")).toMatchObject({ default: "`[49152, 50151]`" });
  expect(coturn.find((s) => s.name === "turn_shared_secret")).toMatchObject({ default: "generated" });
  expect(coturn.find((s) => s.name === "public_ip")).toMatchObject({ default: "(required)" });
  expect(coturn.find((s) => s.name === "coturn_relay_ip")).toMatchObject({ default: "" });
});

it("replaces only what lies between the markers", () => {
  const table = settingsTable([{ name: "x", default: "`1`", meaning: "a | b" }]);
  expect(table).toContain("| `x` | `1` | a \\| b |");
  const readme = withTable("# role: x\n\nbefore\n", table);
  expect(readme).toBe(`# role: x\n\nbefore\n\n${table}\n`);
  expect(withTable(`${readme}after\n`, settingsTable([]))).toBe(`# role: x\n\nbefore\n\n${settingsTable([])}\nafter\n`);
});
