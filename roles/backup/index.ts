import { check, command, defineRole, directory, file, service, sh, unitFile } from "../../src/rigger.js";
import { BACKUP_COMMAND } from "../matrixrtc/index.js";
import { backupScript } from "./script.js";
import { backupVars } from "./vars.js";

const UNIT = "matrixrtc-backup";

/**
 * The homeserver host's backup command (script.ts) and the timer that runs it. playbooks/backup.ts
 * runs it and fetches the archive; the postgres and synapse containers run it before an image
 * change; playbooks/restore.ts puts an archive back on a new host.
 */
export default defineRole({
  name: "backup",
  vars: backupVars,
  enabled: (vars) => vars.homeserver === "synapse",
  tasks: (vars) => {
    const scheduled = vars.backup_schedule !== "off";
    return [
      directory({ path: vars.backup_dir, mode: 0o700 }),
      file({ path: BACKUP_COMMAND, content: backupScript(vars), mode: 0o700 }),
      unitFile({
        unit: `${UNIT}.service`,
        content: `# Managed by rigger (role backup).\n[Unit]\nDescription=Back up the homeserver (rigger)\nAfter=docker.service\n\n[Service]\nType=oneshot\nExecStart=${BACKUP_COMMAND}\n`,
      }),
      ...(scheduled
        ? [
            unitFile({
              unit: `${UNIT}.timer`,
              content: `# Managed by rigger (role backup).\n[Unit]\nDescription=Back up the homeserver (rigger), ${vars.backup_schedule}\n\n[Timer]\nOnCalendar=${vars.backup_schedule}\nRandomizedDelaySec=15min\nPersistent=true\n\n[Install]\nWantedBy=timers.target\n`,
            }),
            service({ unit: `${UNIT}.timer`, enabled: true, state: "started" }),
          ]
        : [
            command({
              name: "no scheduled backups",
              run: `systemctl disable --now ${UNIT}.timer`,
              unless: `! systemctl is-enabled --quiet ${UNIT}.timer && ! systemctl is-active --quiet ${UNIT}.timer`,
            }),
          ]),
    ];
  },
  verify: (vars) => [
    vars.backup_schedule === "off"
      ? check({
          name: "no scheduled backup (backup_schedule: off)",
          command: `! systemctl is-active --quiet ${UNIT}.timer && echo 'timer: not active'`,
          failure: `${UNIT}.timer runs although backup_schedule is off`,
        })
      : check({
          name: `backups are scheduled (${vars.backup_schedule})`,
          command: `systemctl is-active --quiet ${UNIT}.timer && ${sh`systemctl show -p NextElapseUSecRealtime --value ${`${UNIT}.timer`}`}`,
          failure: `${UNIT}.timer is not active: no scheduled backups`,
        }),
  ],
});
