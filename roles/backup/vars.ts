import { z } from "zod";
import { backupAge, backupPlace, placement, shape, synapseDatabase } from "../matrixrtc/index.js";
import { synapseVars } from "../synapse/vars.js";

export const backupVars = z.object({
  ...placement,
  homeserver: shape.homeserver,
  ...synapseDatabase,
  ...backupPlace,
  synapse_data_dir: synapseVars.shape.synapse_data_dir,
  /** How many backups the host keeps (and the controller, per host, for playbooks/backup.ts); older ones are deleted. */
  backup_keep: z.number().int().min(1).default(7),
  /** When the host backs itself up (systemd's OnCalendar: `daily`, `*-*-* 03:00`); `off`: only when asked. */
  backup_schedule: z.string().min(1).default("daily"),
  ...backupAge,
});

export type BackupVars = z.output<typeof backupVars>;
