/**
 * The host's backup command as the role renders it, for each database: what it dumps or copies
 * (SQLite by its online backup, the live files left out), and how many archives it keeps. (The PostgreSQL form is run for real in test/e2e/backup-restore.test.ts.)
 */
import { execFileSync, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { backupScript } from "../../../roles/backup/script.js";
import { backupVars } from "../../../roles/backup/vars.js";

const script = (vars: Record<string, unknown>) => backupScript(backupVars.parse(vars));

it("dumps PostgreSQL while Synapse runs, and copies the media and every config", () => {
  const rendered = script({ backup_keep: 3 });
  expect(rendered).toContain(
    'docker exec matrixrtc-postgres pg_dump -U synapse -d synapse --format=custom >"$work/synapse.pgdump"',
  );
  expect(rendered).toContain('tar -C /var/lib/matrixrtc/synapse -cf "$work/synapse-data.tar" .');
  expect(rendered).toContain('tar -C /etc/matrixrtc -cf "$work/config.tar" .');
  expect(rendered).not.toContain("docker stop");
  expect(rendered).toContain("tail -n +4");
});

it("copies SQLite by its online backup while Synapse runs, the live database files left out of the media", () => {
  const rendered = script({ synapse_database: "sqlite" });
  expect(rendered).toMatch(
    /^docker exec matrixrtc-synapse python3 -c 'import sqlite3, sys; .*source\.backup\(copy\).*' \/data\/homeserver\.db \/data\/\.rigger-snapshot\.db$/m,
  );
  expect(rendered).toContain('mv /var/lib/matrixrtc/synapse/.rigger-snapshot.db "$work/synapse.sqlite"');
  expect(rendered).toContain(
    "--exclude=./homeserver.db --exclude=./homeserver.db-wal --exclude=./homeserver.db-shm --exclude=./homeserver.db-journal",
  );
  expect(rendered).toContain("sha256sum -- config.tar synapse-data.tar synapse.sqlite");
  expect(rendered).not.toMatch(/pg_dump|docker stop/);
});

it("keeps the newest backup_keep archives, in a backup_dir whose path holds a space", () => {
  const dir = join(mkdtempSync(join(tmpdir(), "rigger-backups-")), "my backups");
  mkdirSync(dir);
  const names = ["20261101T000000Z", "20261102T000000Z", "20261103T000000Z", "20261104T000000Z"].map(
    (stamp) => `matrixrtc-${stamp}.tar.gz`,
  );
  for (const name of names) writeFileSync(join(dir, name), "");
  const retention = script({ backup_dir: dir, backup_keep: 2 })
    .split("\n")
    .find((line) => line.startsWith('ls -1 "$dir"'))!;
  execFileSync("sh", ["-c", `dir="$1"; ${retention}`, "sh", dir]);
  expect(readdirSync(dir).sort()).toEqual(names.slice(2));
});

it("is a script the shell reads, in both forms", () => {
  const dir = mkdtempSync(join(tmpdir(), "rigger-backup-script-"));
  for (const database of ["postgres", "sqlite"]) {
    const file = join(dir, database);
    writeFileSync(file, script({ synapse_database: database }));
    expect(() => execFileSync("sh", ["-n", file])).not.toThrow();
  }
});

it("stopped by its time limit mid-dump, as a run stops it, leaves no working folder or partial archive behind", () => {
  const root = mkdtempSync(join(tmpdir(), "rigger-backup-stopped-"));
  const [dir, data, config, bin] = ["backups", "data", "config", "bin"].map((name) => join(root, name)) as [
    string,
    string,
    string,
    string,
  ];
  for (const folder of [data, config, bin]) mkdirSync(folder);
  // A database dump that hangs (a huge database on a slow disk): docker, on the PATH, never returns.
  writeFileSync(join(bin, "docker"), "#!/bin/sh\necho partial-dump\nsleep 60\n", { mode: 0o755 });
  const file = join(root, "matrixrtc-backup");
  writeFileSync(file, script({ backup_dir: dir, synapse_data_dir: data, matrixrtc_config_dir: config }), {
    mode: 0o755,
  });
  const started = Date.now();
  const stopped = spawnSync("timeout", ["-k", "5", "1", "sh", "-c", file], {
    env: { ...process.env, PATH: `${bin}:${process.env.PATH}` },
  });
  expect(stopped.status).toBe(124);
  expect(Date.now() - started).toBeLessThan(5_000);
  expect(readdirSync(dir).filter((name) => name !== ".lock")).toEqual([]);
});
