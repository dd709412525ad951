import { definePlaybook } from "../src/rigger.js";
import backup from "../roles/backup/index.js";
import backupNow from "../roles/backup_now/index.js";
import { hostsOf } from "../roles/matrixrtc/index.js";

/**
 * A backup of the homeserver now: the database, media, signing key and every service's config,
 * as one archive on the host (backup_dir, the newest backup_keep kept) and fetched to this machine
 * (backup_fetch_dir/<host>/), the inventory's secrets store beside it. The host's timer makes the
 * same archive on its own (backup_schedule); playbooks/restore.ts puts one back on a new host.
 */
export default definePlaybook([{ name: "backup", hosts: hostsOf("homeserver"), roles: [backup, backupNow] }]);
