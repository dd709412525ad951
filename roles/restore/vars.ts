import { existsSync } from "node:fs";
import { homedir } from "node:os";
import { basename, join } from "node:path";
import { z } from "zod";
import { ARCHIVE_NAME } from "../backup/script.js";
import { backupPlace, placement, synapseDatabase } from "../matrixrtc/index.js";
import { postgresVars } from "../postgres/vars.js";
import { synapseVars } from "../synapse/vars.js";

export const restoreVars = z.object({
  ...placement,
  ...synapseDatabase,
  ...backupPlace,
  /** The backup to put back: an archive playbooks/backup.ts fetched (matrixrtc-<time>.tar.gz), on this machine. */
  restore_archive: z
    .string({
      error:
        "expected the path of a backup on this machine: -e restore_archive=~/.local/share/rigger/backups/<host>/matrixrtc-<time>.tar.gz",
    })
    .refine(
      (path) => ARCHIVE_NAME.test(basename(path)),
      "expected an archive playbooks/backup.ts made (matrixrtc-<time>.tar.gz)",
    )
    // A ~ the shell left as it was (quoted, or a shell that does not expand it after =).
    .transform((path) => (path.startsWith("~/") ? join(homedir(), path.slice(2)) : path))
    .refine(existsSync, "no such file on this machine"),
  synapse_data_dir: synapseVars.shape.synapse_data_dir,
  postgres_data_dir: postgresVars.shape.postgres_data_dir,
  /** The key the archive's signing.key must be: the store and the backup belong together. */
  synapse_signing_key: z.string(),
});

export type RestoreVars = z.output<typeof restoreVars>;
