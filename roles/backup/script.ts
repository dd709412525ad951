import { raw, sh } from "../../src/rigger.js";
import { containers, SYNAPSE_DB } from "../matrixrtc/index.js";
import type { BackupVars } from "./vars.js";

/** The archive's members: what restore.ts puts back, each checked against SHA256SUMS first. */
export const ARCHIVE = {
  database: "synapse.pgdump",
  sqlite: "synapse.sqlite",
  data: "synapse-data.tar",
  config: "config.tar",
  sums: "SHA256SUMS",
};
/** Where homeserver.yaml has Synapse keep SQLite, in its container and in its data directory. */
export const SQLITE_FILE = "homeserver.db";
/** SQLite's online backup, by the Python of Synapse's own image: a consistent copy while Synapse writes. */
const SQLITE_SNAPSHOT =
  "import sqlite3, sys; source = sqlite3.connect(sys.argv[1]); copy = sqlite3.connect(sys.argv[2]); source.backup(copy); copy.close()";
/** The name the backup command gives an archive. */
export const ARCHIVE_NAME = /^matrixrtc-\d{8}T\d{6}Z\.tar\.gz$/;
/** A member's path in the scripts' working directory ($work), for a shell word. */
export const inWork = (member: string) => raw(`"$work/${member}"`);

/**
 * The host's backup command: one archive (matrixrtc-<UTC time>.tar.gz in backup_dir, `latest`
 * pointing at it) of what a homeserver cannot be rebuilt without: the database (pg_dump, or
 * SQLite's online backup, while Synapse runs), the media, and every service's config
 * with its secrets (Synapse's signing key among them). Private to root; written under a temporary
 * name and renamed, so an archive that exists is whole; the oldest beyond backup_keep deleted.
 */
export function backupScript(vars: BackupVars): string {
  const postgres = vars.synapse_database === "postgres";
  const snapshot = ".rigger-snapshot.db";
  const data = postgres
    ? [
        sh`docker exec ${containers.postgres} pg_dump -U ${SYNAPSE_DB.user} -d ${SYNAPSE_DB.name} --format=custom >${inWork(ARCHIVE.database)}`,
        sh`tar -C ${vars.synapse_data_dir} -cf ${inWork(ARCHIVE.data)} .`,
      ]
    : [
        sh`docker exec ${containers.synapse} python3 -c ${SQLITE_SNAPSHOT} ${`/data/${SQLITE_FILE}`} ${`/data/${snapshot}`}`,
        sh`mv ${`${vars.synapse_data_dir}/${snapshot}`} ${inWork(ARCHIVE.sqlite)}`,
        // The live database files are left out: the snapshot stands for them.
        sh`tar -C ${vars.synapse_data_dir} ${["", "-wal", "-shm", "-journal"].map((suffix) => `--exclude=./${SQLITE_FILE}${suffix}`)} -cf ${inWork(ARCHIVE.data)} .`,
      ];
  return [
    "#!/bin/sh",
    "# Managed by rigger (role backup): a backup of the homeserver, as playbooks/backup.ts and the timer make it.",
    "set -eu",
    "umask 077",
    sh`dir=${vars.backup_dir}`,
    'mkdir -p "$dir"',
    "# One backup at a time (the timer and an operator's run may meet).",
    'exec 9>"$dir/.lock"',
    "flock 9",
    "find \"$dir\" -maxdepth 1 -name '.partial-*' -mmin +1440 -exec rm -rf {} +",
    "stamp=$(date -u +%Y%m%dT%H%M%SZ)",
    'name="matrixrtc-$stamp.tar.gz"',
    'work=$(mktemp -d "$dir/.partial-XXXXXX")',
    // Stopped (its time limit, a reboot) as well as failed, it leaves nothing behind: sh runs the EXIT trap on exit only.
    'trap \'rm -rf "$work" "$dir/.$name"\' EXIT',
    "trap 'exit 143' TERM INT HUP",
    ...data,
    sh`tar -C ${vars.matrixrtc_config_dir} -cf ${inWork(ARCHIVE.config)} .`,
    `(cd "$work" && sha256sum -- ${ARCHIVE.config} ${ARCHIVE.data} ${postgres ? ARCHIVE.database : ARCHIVE.sqlite} >${ARCHIVE.sums})`,
    'tar -C "$work" -czf "$dir/.$name" . && mv "$dir/.$name" "$dir/$name"',
    'ln -sfn "$name" "$dir/latest"',
    // One name a line (a backup_dir may hold a space).
    sh`ls -1 "$dir"/matrixrtc-*.tar.gz | sort -r | tail -n +${String(vars.backup_keep + 1)} | xargs -r -d '\\n' rm -f --`,
    'echo "$dir/$name ($(du -h "$dir/$name" | cut -f1))"',
    "",
  ].join("\n");
}
