import { command, defineRole, localCheck } from "../../src/rigger.js";
import { BACKUP_COMMAND } from "../matrixrtc/index.js";
import { fetchLatest } from "./fetch.js";
import { backupNowVars } from "./vars.js";

/** A backup made now on the homeserver host (role backup's command), then fetched to this machine (playbooks/backup.ts). */
export default defineRole({
  name: "backup_now",
  vars: backupNowVars,
  tasks: (vars) => [
    command({ name: "a backup made on the host", run: BACKUP_COMMAND, commandTimeoutSeconds: vars.backup_timeout }),
    localCheck({
      name: "the backup fetched to this machine",
      run: (host) => fetchLatest(host, vars),
      failure: "the backup could not be fetched",
    }),
  ],
});
