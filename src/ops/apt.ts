import { aptListsAgeFact, debPackagesFact } from "../facts/packages.js";
import { sh } from "../common/shell.js";
import { operation, taskOptions, type Operation, type Step, type TaskOptions } from "./operation.js";

export interface AptArgs extends TaskOptions {
  packages: string[];
  state?: "present" | "absent" | "latest";
  /** Package lists younger than this are not refreshed before an install. */
  cacheValidSeconds?: number;
}

// DPkg::Lock::Timeout: wait for unattended-upgrades on a fresh server instead of failing at once.
const APT =
  "DEBIAN_FRONTEND=noninteractive apt-get -q -y -o DPkg::Lock::Timeout=120 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold";

/**
 * Debian packages present (the lists refreshed when older than `cacheValidSeconds`), absent, or at their latest version.
 * @example apt({ packages: ["caddy"] })
 */
export function apt(args: AptArgs): Operation {
  const state = args.state ?? "present";
  const cacheValidSeconds = args.cacheValidSeconds ?? 3600;
  return operation({
    name: args.name ?? `apt ${state} ${args.packages.join(" ")}`,
    facts: { packages: debPackagesFact(args.packages, state === "latest"), listsAge: aptListsAgeFact },
    plan: ({ packages, listsAge }) => {
      const steps: Step[] = [];
      if (state === "absent") {
        const installed = args.packages.filter((p) => packages[p]?.installed);
        if (installed.length) steps.push({ kind: "run", command: `${APT} remove ${sh`${installed}`}` });
        return steps;
      }
      const stale = listsAge > cacheValidSeconds;
      const wanted = args.packages.filter((p) => {
        const pkg = packages[p]!;
        // "latest" with stale lists: refresh first, then install whatever is newer.
        return (
          !pkg.installed ||
          (state === "latest" && (stale || (pkg.candidate !== undefined && pkg.candidate !== pkg.version)))
        );
      });
      if (wanted.length === 0) return steps;
      if (stale) steps.push({ kind: "run", command: `${APT} update` });
      steps.push({ kind: "run", command: `${APT} install --no-install-recommends ${sh`${wanted}`}` });
      return steps;
    },
    ...taskOptions(args),
  });
}
