import { unitFact } from "../facts/systemd.js";
import { sh } from "../common/shell.js";
import { file } from "./files.js";
import { NotYetPlannable, operation, taskOptions, type Operation, type Step, type TaskOptions } from "./operation.js";

export interface ServiceArgs extends TaskOptions {
  unit: string;
  enabled?: boolean;
  state?: "started" | "stopped";
}

/**
 * A unit enabled or not, started or stopped.
 * @example service({ unit: "caddy.service", enabled: true, state: "started" })
 */
export function service(args: ServiceArgs): Operation {
  return operation({
    name: args.name ?? `service ${args.unit}`,
    facts: { unit: unitFact(args.unit) },
    plan: ({ unit }) => {
      if (!unit.loaded) throw new NotYetPlannable(`the unit ${args.unit} does not exist on this host`);
      const steps: Step[] = [];
      const isEnabled = unit.enabled === "enabled";
      if (args.enabled === true && !isEnabled) steps.push({ kind: "run", command: sh`systemctl enable ${args.unit}` });
      if (args.enabled === false && isEnabled) steps.push({ kind: "run", command: sh`systemctl disable ${args.unit}` });
      const running = unit.active === "active" || unit.active === "activating" || unit.active === "reloading";
      if (args.state === "started" && !running) steps.push({ kind: "run", command: sh`systemctl start ${args.unit}` });
      if (args.state === "stopped" && running) steps.push({ kind: "run", command: sh`systemctl stop ${args.unit}` });
      return steps;
    },
    ...taskOptions(args),
  });
}

export interface UnitFileArgs extends TaskOptions {
  unit: string;
  content: string;
}

/**
 * A unit file under /etc/systemd/system; systemd reloads its units only when the content changed.
 * @example unitFile({ unit: "matrixrtc-backup.timer", content: TIMER, notify: "restart backup timer" })
 */
export function unitFile(args: UnitFileArgs): Operation {
  const path = `/etc/systemd/system/${args.unit}`;
  const inner = file({ path, content: args.content, mode: 0o644 });
  return {
    ...inner,
    name: args.name ?? `unit file ${args.unit}`,
    plan: (facts) => {
      const steps = inner.plan(facts);
      return steps.some((s) => s.kind === "write")
        ? [...steps, { kind: "run", command: "systemctl daemon-reload" }]
        : steps;
    },
    ...taskOptions(args),
  };
}

/**
 * A handler's action: restart or reload a unit (always a change: it was asked for). With
 * `unlessStartedAfter`, a unit whose process started after that file was last written has read it
 * already and is left alone: a service the same run started (on a fresh host) is not reloaded
 * straight after, which would cancel what its start began (Caddy's certificate orders).
 * @example handlers: () => ({ "reload caddy": serviceAction("caddy.service", "reload", { unlessStartedAfter: "/etc/caddy/Caddyfile" }) })
 */
export function serviceAction(
  unit: string,
  action: "restart" | "reload" | "reload-or-restart",
  options: { unlessStartedAfter?: string } = {},
): Operation {
  const act = sh`systemctl ${action} ${unit}`;
  const file = options.unlessStartedAfter;
  return operation({
    name: `${action} ${unit}`,
    facts: {},
    plan: () => [
      {
        kind: "run",
        command: file
          ? // In microseconds: a package's own start and the file's write often fall in one second.
            `started=$(${sh`systemctl show --timestamp=us -p ActiveEnterTimestamp --value ${unit}`}); ` +
            `if [ -n "$started" ] && [ "$(date -d "$started" +%s%6N)" -gt "$(${sh`stat -c %.6Y ${file}`} | tr -d .)" ]; then ${sh`echo ${`${unit} started after ${file} was written: it has it already`}`}; else ${act}; fi`
          : act,
      },
    ],
  });
}
