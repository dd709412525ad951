import { sh } from "../common/shell.js";
import { ABSENT, defineFact, type Fact, type FactFamily } from "./fact.js";

export interface UnitState {
  loaded: boolean;
  active: string;
  enabled: string;
}

const PROPERTIES = "LoadState,ActiveState,UnitFileState";
const NOT_LOADED: UnitState = { loaded: false, active: "unknown", enabled: "" };

/** systemctl's answer for these units, its own words on stdout when it fails; no systemctl at all: absent. */
const show = (units: string[]) =>
  sh`command -v systemctl >/dev/null || exit ${ABSENT}; systemctl show -p ${PROPERTIES} ${units} 2>&1`;

/** A systemd unit's load, active and enablement state; a systemctl that cannot answer (no bus) is an error, not "not loaded". */
export function unitFact(unit: string): Fact<UnitState> {
  const fact = defineFact(`unit:${unit}`, show([unit]), (stdout, code) => {
    if (code === ABSENT) return NOT_LOADED;
    if (code !== 0) throw new Error(`systemctl could not answer: ${stdout.trim() || `exit ${code}`}`);
    const props = Object.fromEntries(
      stdout
        .trim()
        .split("\n")
        .map((line) => line.split("=", 2) as [string, string]),
    );
    return {
      loaded: props.LoadState === "loaded",
      active: props.ActiveState ?? "unknown",
      enabled: props.UnitFileState ?? "",
    };
  });
  return { ...fact, family: { of: UNITS, member: unit } };
}

/** The units of a batch in one `systemctl show`: it prints a block for each unit asked, in order, blank lines between. */
const UNITS: FactFamily = {
  command: show,
  split(stdout, units, exitCode) {
    if (exitCode === ABSENT) return units.map(() => ({ stdout: "", exitCode }));
    if (exitCode !== 0) throw new Error(`systemctl could not answer: ${stdout.trim() || `exit ${exitCode}`}`);
    const blocks = stdout.split("\n\n");
    if (blocks.length !== units.length)
      throw new Error(`systemctl show printed ${blocks.length} blocks for ${units.length} units`);
    return blocks.map((block) => ({ stdout: block, exitCode: 0 }));
  },
};
