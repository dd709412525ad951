/**
 * Role monitoring's pure parts: which endpoints of which hosts Prometheus is told to scrape, and the
 * thresholds of its alert rules; and the backup role's measuring check, run by a real shell. (The
 * files are loaded by a real Prometheus in test/roles/matrixrtc.test.ts.)
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import backup from "../../../roles/backup/index.js";
import { backupVars } from "../../../roles/backup/vars.js";
import { alertRules } from "../../../roles/monitoring/rules.js";
import { deploymentTargets } from "../../../roles/monitoring/targets.js";
import { monitoringVars } from "../../../roles/monitoring/vars.js";
import type { Fleet, Operation } from "../../../src/rigger.js";

const fleet = (groups: Record<string, Record<string, Record<string, unknown>>>): Fleet => ({
  host: "prometheus",
  members: (group) => Object.entries(groups[group] ?? {}).map(([name, vars]) => ({ name, vars })),
});

const watched = { metrics_clients: ["192.0.2.9"] };

it("points Prometheus at every endpoint each host's shape runs, at its private address and the port its role publishes", () => {
  const targets = deploymentTargets(
    fleet({
      proxy: { front: { ...watched, public_ip: "198.51.100.1", caddy_metrics_port: 9999 } },
      sfu: {
        node1: { ...watched, public_ip: "198.51.100.2", private_ip: "10.0.0.2" },
        node2: { public_ip: "198.51.100.3" },
      },
      homeserver: { home: { ...watched, public_ip: "198.51.100.4", synapse_database: "sqlite" } },
      turn: { relay: { ...watched, public_ip: "198.51.100.5", coturn_metrics: true } },
      matrixrtc: { beside: { ...watched, public_ip: "198.51.100.6", proxy: "own", homeserver: "existing" } },
    }),
  );
  expect(targets).toEqual([
    { service: "caddy", host: "front", address: "198.51.100.1", port: 9999 },
    { service: "livekit", host: "beside", address: "198.51.100.6", port: 6789 },
    { service: "livekit", host: "node1", address: "10.0.0.2", port: 6789 },
    { service: "synapse", host: "home", address: "198.51.100.4", port: 9000 },
    { service: "coturn", host: "relay", address: "198.51.100.5", port: 9641 },
  ]);
});

it("lists one host of everything once per service, and nothing of a host that opens no metrics", () => {
  const one = { ...watched, public_ip: "198.51.100.7" };
  expect(deploymentTargets(fleet({ matrixrtc: { all: one }, redis: { all: one } })).map((t) => t.service)).toEqual([
    "caddy",
    "redis",
    "livekit",
    "synapse",
    "postgres",
  ]);
  expect(deploymentTargets(fleet({ matrixrtc: { quiet: { public_ip: "198.51.100.8" } } }))).toEqual([]);
});

it("writes its thresholds into the alerts' expressions", () => {
  const rules = alertRules(
    monitoringVars.parse({
      backup_max_age_hours: 24,
      monitoring_certificate_days: 7,
      monitoring_rigger_run_max_age_hours: 2,
    }),
  ).groups[0]!.rules;
  const expr = (name: string) => rules.find((r) => r.alert === name)!.expr;
  expect(expr("MatrixRTCBackupTooOld")).toBe("time() - rigger_backup_newest_timestamp_seconds > 86400");
  expect(expr("MatrixRTCCertificateExpiresSoon")).toBe("rigger_certificate_expiry_timestamp_seconds - time() < 604800");
  expect(expr("RiggerRunsStopped")).toBe("time() - rigger_run_end_timestamp_seconds > 7200");
  expect(new Set(rules.map((r) => r.alert)).size).toBe(rules.length);
});

/** The backup role's measuring check, run by bash on a folder of archives. */
function newestBackup(dir: string): { code: number | null; lines: string[] } {
  const vars = backupVars.parse({ backup_dir: dir, backup_max_age_hours: 48 });
  const check = backup.verify!(vars, { name: "h", groups: [], vars: {}, ports: [] }).find(
    (op: Operation) => op.measure,
  )!;
  const [probe] = check.plan({});
  const run = spawnSync("bash", ["-c", (probe as { command: string }).command], { encoding: "utf8" });
  return { code: run.status, lines: run.stdout.trim().split("\n") };
}

it("measures the newest backup's time (0 before the first), and fails when it is too old", () => {
  // A backup_dir whose path holds a space and a quote.
  const dir = join(mkdtempSync(join(tmpdir(), "rigger-newest-")), "my 'backups'");
  mkdirSync(dir);
  expect(newestBackup(dir)).toEqual({ code: 0, lines: ["no backup yet", "0"] });
  const archive = (name: string, hoursAgo: number) => {
    const path = join(dir, name);
    writeFileSync(path, "");
    const at = Date.now() / 1000 - hoursAgo * 3600;
    utimesSync(path, at, at);
    return Math.floor(at);
  };
  archive("matrixrtc-20261201T030000Z.tar.gz", 100);
  expect(newestBackup(dir).code).toBe(1);
  const newest = archive("matrixrtc-20261206T030000Z.tar.gz", 5);
  archive("unrelated.tar.gz", 0);
  expect(newestBackup(dir)).toEqual({ code: 0, lines: ["newest backup: 5 hours old", String(newest)] });
  expect(newestBackup(join(dir, "missing")).code).toBe(1);
});
