import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { backupPlace, backupTimeout, shape } from "../matrixrtc/index.js";
import { backupVars } from "../backup/vars.js";

export const backupNowVars = z.object({
  homeserver: shape.homeserver.refine(
    (kind) => kind === "synapse",
    "is existing: rigger runs no homeserver here, so there is nothing of it to back up (your homeserver's backups are yours; the call backend is rebuilt from the inventory)",
  ),
  ...backupPlace,
  ...backupTimeout,
  backup_keep: backupVars.shape.backup_keep,
  /** The inventory's folder: its secrets store is kept beside each backup. */
  inventory_dir: z.string(),
  /** Where on this machine the backups are fetched to, a folder per host: never the inventory, which is committed and shared. */
  backup_fetch_dir: z.string().default(join(homedir(), ".local/share/rigger/backups")),
});

export type BackupNowVars = z.output<typeof backupNowVars>;
