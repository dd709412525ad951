import { sh } from "../common/shell.js";
import { defineFact, type Fact } from "./fact.js";

export interface UnitState {
  loaded: boolean;
  active: string;
  enabled: string;
}

/** A systemd unit's load, active and enablement state. */
export function unitFact(unit: string): Fact<UnitState> {
  return defineFact(`unit:${unit}`, sh`systemctl show -p LoadState,ActiveState,UnitFileState ${unit}`, (stdout) => {
    const props = Object.fromEntries(stdout.trim().split("\n").map((line) => line.split("=", 2) as [string, string]));
    return { loaded: props.LoadState === "loaded", active: props.ActiveState ?? "unknown", enabled: props.UnitFileState ?? "" };
  });
}
