import { raw, sh } from "../common/shell.js";
import { defineFact, type Fact } from "./fact.js";

export interface PackageState {
  installed: boolean;
  version?: string;
  /** The version apt would install; only read when asked for. */
  candidate?: string;
}

const DPKG_FORMAT = raw("'${Package}|${db:Status-Abbrev}|${Version}\\n'");

/** The dpkg state of some packages, and apt's candidate versions when `withCandidates`. */
export function debPackagesFact(names: string[], withCandidates = false): Fact<Record<string, PackageState>> {
  const sorted = [...names].sort();
  const installed = sh`dpkg-query -W -f=${DPKG_FORMAT} ${sorted}`;
  const candidates = withCandidates ? sh`; echo ---; LC_ALL=C apt-cache policy ${sorted}` : "";
  return defineFact(
    `deb${withCandidates ? "+candidates" : ""}:${sorted.join(",")}`,
    `${installed}${candidates}`,
    (stdout) => {
      const [dpkg = "", policy = ""] = stdout.split("\n---\n");
      const state: Record<string, PackageState> = Object.fromEntries(sorted.map((n) => [n, { installed: false }]));
      for (const line of dpkg.split("\n")) {
        const [name, status, version] = line.split("|");
        if (name && state[name] && status?.startsWith("ii")) state[name] = { installed: true, version };
      }
      let current: string | undefined;
      for (const line of policy.split("\n")) {
        const header = /^(\S+):$/.exec(line);
        if (header) current = header[1];
        const candidate = /^\s+Candidate: (\S+)/.exec(line);
        if (candidate && current && state[current] && candidate[1] !== "(none)")
          state[current]!.candidate = candidate[1];
      }
      return state;
    },
  );
}

/** Seconds since apt's package lists were last refreshed (Infinity when there are none). */
export const aptListsAgeFact: Fact<number> = defineFact(
  "apt-lists-age",
  `newest=$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -printf '%T@\\n' | sort -n | tail -1); [ -n "$newest" ] && echo $(( $(date +%s) - \${newest%.*} ))`,
  (stdout, code) => (code === 0 && stdout.trim() !== "" ? Number(stdout.trim()) : Number.POSITIVE_INFINITY),
);
