import { createHash } from "node:crypto";
import { sh } from "../../src/rigger.js";
import { ARCHIVE, inWork, SQLITE_FILE } from "../backup/script.js";
import { pendingRestoreDump } from "../matrixrtc/index.js";
import type { RestoreVars } from "./vars.js";

/**
 * Puts an uploaded backup back on a new host: checked whole (SHA256SUMS) and against the secrets
 * store (its signing key must be the store's: the services are about to be configured from the
 * store), refused over a homeserver that holds data, then the config and media put in place, and
 * the database: SQLite's file back in the data directory, a PostgreSQL dump left for the postgres
 * role to load into its new database.
 */
export function restoreScript(vars: RestoreVars, archive: string): string {
  const keySha = createHash("sha256").update(`${vars.synapse_signing_key}\n`).digest("hex");
  const sqlite = `${vars.synapse_data_dir}/${SQLITE_FILE}`;
  const nonEmpty = (dir: string) => `[ -n "$(${sh`ls -A ${dir}`} 2>/dev/null)" ]`;
  return [
    "set -eu",
    "umask 077",
    `work=$(mktemp -d ${sh`${`${vars.backup_dir}/.restore-XXXXXX`}`})`,
    "trap 'rm -rf \"$work\"' EXIT",
    sh`tar -C "$work" -xzf ${archive}`,
    sh`(cd "$work" && sha256sum --quiet -c ${ARCHIVE.sums})`,
    `key=$(${sh`tar -xOf ${inWork(ARCHIVE.config)} ./synapse/signing.key`} | sha256sum | cut -d' ' -f1)`,
    `[ "$key" = ${keySha} ] || { echo "the backup's signing key is not the one in this inventory's secrets store: put the store saved beside the backup (<backup>.secrets.yaml) in the inventory as secrets.yaml, then run again" >&2; exit 1; }`,
    `if ${nonEmpty(vars.synapse_data_dir)} || ${nonEmpty(vars.postgres_data_dir)}; then ${sh`echo ${`refusing to restore over a homeserver that holds data (${vars.synapse_data_dir}, ${vars.postgres_data_dir}): restore onto a new host`}`} >&2; exit 1; fi`,
    sh`mkdir -p ${vars.matrixrtc_config_dir} ${vars.synapse_data_dir}`,
    sh`tar -C ${vars.matrixrtc_config_dir} -xpf ${inWork(ARCHIVE.config)}`,
    sh`tar -C ${vars.synapse_data_dir} -xpf ${inWork(ARCHIVE.data)}`,
    sh`if [ -f ${inWork(ARCHIVE.database)} ]; then install -D -m 600 ${inWork(ARCHIVE.database)} ${pendingRestoreDump(vars)}; fi`,
    sh`if [ -f ${inWork(ARCHIVE.sqlite)} ]; then install -m 600 ${inWork(ARCHIVE.sqlite)} ${sqlite} && chown --reference=${vars.synapse_data_dir} ${sqlite}; fi`,
    sh`echo ${`restored from ${archive}`}`,
  ].join("\n");
}
