/**
 * The host's backup command as the role renders it, for each database: what it dumps or copies,
 * that SQLite's copy is made with Synapse stopped and Synapse started again whatever happens, and
 * how many archives it keeps. (The PostgreSQL form is run for real in test/e2e/backup-restore.test.ts.)
 */
import { execFileSync } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { backupScript } from "../../../roles/backup/script.js";
import { backupVars } from "../../../roles/backup/vars.js";

const script = (vars: Record<string, unknown>) => backupScript(backupVars.parse(vars));

it("dumps PostgreSQL while Synapse runs, and copies the media and every config", () => {
  const rendered = script({ backup_keep: 3 });
  expect(rendered).toContain("docker exec matrixrtc-postgres pg_dump -U synapse -d synapse --format=custom >\"$work/synapse.pgdump\"");
  expect(rendered).toContain('tar -C /var/lib/matrixrtc/synapse -cf "$work/synapse-data.tar" .');
  expect(rendered).toContain('tar -C /etc/matrixrtc -cf "$work/config.tar" .');
  expect(rendered).not.toContain("docker stop");
  expect(rendered).toContain("tail -n +4");
});

it("copies SQLite with Synapse stopped, and starts Synapse again even when the copy fails", () => {
  const rendered = script({ synapse_database: "sqlite" });
  const lines = rendered.split("\n");
  const stop = lines.indexOf("docker stop --time 30 matrixrtc-synapse >/dev/null");
  expect(stop).toBeGreaterThan(0);
  expect(lines[stop + 1]).toBe(`trap 'docker start matrixrtc-synapse >/dev/null; rm -rf "$work"' EXIT`);
  expect(lines[stop + 2]).toBe('tar -C /var/lib/matrixrtc/synapse -cf "$work/synapse-data.tar" .');
  expect(lines[stop + 3]).toBe("docker start matrixrtc-synapse >/dev/null");
  expect(rendered).not.toContain("pg_dump");
});

it("is a script the shell reads, in both forms", () => {
  const dir = mkdtempSync(join(tmpdir(), "rigger-backup-script-"));
  for (const database of ["postgres", "sqlite"]) {
    const file = join(dir, database);
    writeFileSync(file, script({ synapse_database: database }));
    expect(() => execFileSync("sh", ["-n", file])).not.toThrow();
  }
});
