import { check, command, defineRole, directory, file, service, sh, unitFile } from "../../src/rigger.js";
import { BACKUP_COMMAND } from "../matrixrtc/index.js";
import { backupScript } from "./script.js";
import { backupVars, type BackupVars } from "./vars.js";

const UNIT = "matrixrtc-backup";

/**
 * The newest archive's age: too old fails; its time (0 before the first) is what --metrics writes
 * for role monitoring's alert.
 */
const newestBackupCheck = (vars: BackupVars) =>
  check({
    name: `the newest backup is less than ${vars.backup_max_age_hours} hours old`,
    command: [
      sh`dir=${vars.backup_dir}`,
      `[ -d "$dir" ] || { echo "$dir: no such folder"; exit 1; }`,
      `newest=$(find "$dir" -maxdepth 1 -name 'matrixrtc-*.tar.gz' -printf '%T@\n' | sort -n | tail -n 1)`,
      `[ -n "$newest" ] || { echo 'no backup yet'; echo 0; exit 0; }`,
      `newest=\${newest%.*}; age=$(( ($(date +%s) - newest) / 3600 ))`,
      `echo "newest backup: $age hours old"`,
      `[ "$age" -lt ${vars.backup_max_age_hours} ] && echo "$newest"`,
    ].join("; "),
    failure: `the newest backup in ${vars.backup_dir} is older than ${vars.backup_max_age_hours} hours: do the timer's runs fail? (journalctl -u ${UNIT})`,
    measure: { metric: "backup_newest_timestamp_seconds", help: "When the newest backup was made (0: none yet)." },
  });

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
    newestBackupCheck(vars),
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
