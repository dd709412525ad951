import { sh } from "../common/shell.js";
import { defineFact, type Fact, type FactFamily } from "./fact.js";

export interface UnitState {
  loaded: boolean;
  active: string;
  enabled: string;
}

const PROPERTIES = "LoadState,ActiveState,UnitFileState";

/** A systemd unit's load, active and enablement state. */
export function unitFact(unit: string): Fact<UnitState> {
  const fact = defineFact(`unit:${unit}`, sh`systemctl show -p ${PROPERTIES} ${unit}`, (stdout) => {
    const props = Object.fromEntries(stdout.trim().split("\n").map((line) => line.split("=", 2) as [string, string]));
    return { loaded: props.LoadState === "loaded", active: props.ActiveState ?? "unknown", enabled: props.UnitFileState ?? "" };
  });
  return { ...fact, family: { of: UNITS, member: unit } };
}

/** The units of a batch in one `systemctl show`: it prints a block for each unit asked, in order, blank lines between. */
const UNITS: FactFamily = {
  command: (units) => sh`systemctl show -p ${PROPERTIES} ${units}`,
  split(stdout, units) {
    // Nothing at all (no systemd there) reads as it does for one unit: not loaded.
    const blocks = stdout === "" ? units.map(() => "") : stdout.split("\n\n");
    if (blocks.length !== units.length) throw new Error(`systemctl show printed ${blocks.length} blocks for ${units.length} units`);
    return blocks.map((block) => ({ stdout: block, exitCode: 0 }));
  },
};
