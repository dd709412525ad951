/**
 * What a run leaves for machines, on every exit: the JSON report (--json), the evidence report
 * (--report) and the metrics file (--metrics); their paths proved writable before any host is touched.
 */
import { accessSync, constants, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import type { Masker } from "../engine/masker.js";
import { UsageError, type CliOptions } from "./args.js";
import { writeMetricsFile } from "./metrics-file.js";
import { writeEvidenceReport } from "./report.js";

/** Where the run's lines go. */
export interface Io {
  out(line: string): void;
  err(line: string): void;
}

/**
 * What --json and --report say of a run that ended before its plays (a refused input, a host that
 * had to be read first and could not be): the exit code, why, and each host named with its status.
 * Written where it can be; a path that cannot take it is said, never a second failure.
 */
export function writeEarlyOutcome(
  options: CliOptions,
  outcome: { exitCode: number; error: string; hosts?: Array<{ host: string; status: string }> },
  masker: Masker,
  io: Io,
): void {
  const meta = { rigger: version(), playbook: options.playbook ?? "", at: new Date().toISOString(), ...outcome };
  try {
    if (options.metrics)
      writeMetricsFile(options.metrics, {
        playbook: meta.playbook,
        check: options.check,
        exitCode: outcome.exitCode,
        endedAt: Date.now() / 1000,
        seconds: 0,
        hosts: (outcome.hosts ?? []).map((h) => ({ ...h, changed: 0, failed: 0 })),
      });
    if (options.json) writeJsonReport(options.json, meta, masker, io);
    if (options.report) {
      const hosts = (outcome.hosts ?? []).map((h) => `${h.host} ${h.status}`).join(", ");
      writeEvidenceReport(
        options.report,
        {
          playbook: meta.playbook,
          at: meta.at,
          exitCode: outcome.exitCode,
          error: outcome.error,
          ...(hosts ? { hosts } : {}),
        },
        [],
        masker,
      );
    }
  } catch (error) {
    io.err(masker.mask(`rigger: the report could not be written: ${(error as Error).message}`));
  }
}

/** --json's report, masked before it is serialized: on stdout for `-`, else a private file. */
export function writeJsonReport(path: string, report: unknown, masker: Masker, io: Io): void {
  const text = JSON.stringify(masker.maskDeep(report), null, 2);
  if (path === "-") io.out(text);
  else writeFileSync(path, `${text}\n`, { mode: 0o600 });
}

/**
 * Where --json and --report will write, proved writable before any host is touched: a run's
 * outcome (and its exit code) must never be lost to a report that cannot be written afterwards.
 */
export function checkOutputPaths(options: CliOptions): void {
  const writable = (dir: string, flag: string) => {
    try {
      accessSync(dir, constants.W_OK);
    } catch (error) {
      throw new UsageError(
        `${flag}: cannot write into ${dir} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      );
    }
  };
  if (options.json && options.json !== "-") writable(dirname(options.json), "--json");
  if (options.metrics) writable(dirname(options.metrics), "--metrics");
  if (options.report) {
    try {
      mkdirSync(options.report, { recursive: true });
    } catch (error) {
      throw new UsageError(
        `--report: cannot create ${options.report} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
      );
    }
    writable(options.report, "--report");
  }
}

/** rigger's version, from the package.json above this module (src/cli/ or the built dist/). */
export function version(): string {
  let dir = new URL(".", import.meta.url);
  while (!existsSync(new URL("package.json", dir)) && dir.pathname !== "/") dir = new URL("..", dir);
  const pkg = JSON.parse(readFileSync(new URL("package.json", dir), "utf8")) as { version: string };
  return `rigger ${pkg.version}`;
}
