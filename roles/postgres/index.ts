import { check, command, containerRestart, defineRole, directory, file, onHost, sh, when } from "../../src/rigger.js";
import {
  backupBeforeUpgrade,
  containers,
  exporterContainer,
  metricsCheck,
  metricsRule,
  generatedSecrets,
  pendingRestoreDump,
  privateFilesCheck,
  serviceContainer,
  SYNAPSE_DB,
  unpublishedCheck,
} from "../matrixrtc/index.js";
import { postgresVars, type PostgresVars } from "./vars.js";

/** Inside the container: the password file's directory, mounted whole so that a rewritten file is seen (a file mount keeps the old inode). */
const SECRETS = "/run/secrets/postgres";
const PGDATA = "/var/lib/postgresql/data";
const RESTART_EXPORTER = "restart the postgres exporter";
/** Synapse's requirement (docs/postgres.md): UTF8, and collation and ctype `C`. */
const INITDB_ARGS = "--encoding=UTF8 --lc-collate=C --lc-ctype=C";

const psql = (sql: string) =>
  sh`docker exec ${containers.postgres} psql -At -U ${SYNAPSE_DB.user} -d ${SYNAPSE_DB.name} -c ${sql}`;

/**
 * The database user's password made what the file says, for a database initialised with an older
 * one (the image reads POSTGRES_PASSWORD only when it creates the database). The SQL is built inside
 * the container from the file and fed to psql on stdin: the password is never in an argv. (A
 * handler: it runs after the role's check that the database accepts connections.)
 */
const SET_PASSWORD = sh`docker exec ${containers.postgres} sh -c ${`{ printf "ALTER ROLE ${SYNAPSE_DB.user} PASSWORD '"; cat ${SECRETS}/password; printf "';\\n"; } | psql -q -v ON_ERROR_STOP=1 -U ${SYNAPSE_DB.user} -d ${SYNAPSE_DB.name}`}`;

/** PostgreSQL for Synapse: on the services' Docker network only, its data on the host, the database made as Synapse requires it. */
export default defineRole({
  name: "postgres",
  vars: postgresVars,
  enabled: (vars) => vars.homeserver === "synapse" && vars.synapse_database === "postgres",
  secrets: generatedSecrets.postgres,
  secretsOnHost: (vars) => ({
    synapse_postgres_password: onHost.file(`${vars.matrixrtc_config_dir}/postgres/password`),
  }),
  tasks: (vars: PostgresVars) => {
    const dir = `${vars.matrixrtc_config_dir}/postgres`;
    const uid = String(vars.postgres_uid);
    const dump = pendingRestoreDump(vars);
    return [
      directory({ path: dir, mode: 0o700, owner: uid }),
      directory({ path: vars.postgres_data_dir, mode: 0o700, owner: uid }),
      file({
        path: `${dir}/password`,
        content: vars.synapse_postgres_password,
        mode: 0o600,
        owner: uid,
        notify: ["set the database password", ...(vars.metrics_clients.length ? [RESTART_EXPORTER] : [])],
      }),
      ...serviceContainer(vars, {
        name: containers.postgres,
        image: vars.postgres_image,
        beforeUpgrade: backupBeforeUpgrade(vars),
        env: {
          POSTGRES_USER: SYNAPSE_DB.user,
          POSTGRES_DB: SYNAPSE_DB.name,
          POSTGRES_PASSWORD_FILE: `${SECRETS}/password`,
          POSTGRES_INITDB_ARGS: INITDB_ARGS,
        },
        mounts: [
          { source: dir, target: SECRETS, readOnly: true },
          { source: vars.postgres_data_dir, target: PGDATA },
        ],
      }),
      // Synapse, next, dies on a database that does not answer yet. Over TCP: while a first start
      // initialises the database, a temporary server answers on the socket only.
      check({
        name: "postgres accepts connections",
        command: sh`docker exec ${containers.postgres} pg_isready -h 127.0.0.1 -U ${SYNAPSE_DB.user} -d ${SYNAPSE_DB.name}`,
        timeoutSeconds: 60,
        failure: "postgres does not accept connections",
      }),
      // It reads the password file when it starts: a new password restarts it.
      ...exporterContainer(vars, {
        service: "postgres",
        port: vars.postgres_exporter_port,
        name: containers.postgresExporter,
        image: vars.postgres_exporter_image,
        user: `${uid}:${uid}`,
        env: {
          DATA_SOURCE_URI: `${containers.postgres}:${SYNAPSE_DB.port}/${SYNAPSE_DB.name}?sslmode=disable`,
          DATA_SOURCE_USER: SYNAPSE_DB.user,
          DATA_SOURCE_PASS_FILE: `${SECRETS}/password`,
        },
        mounts: [{ source: dir, target: SECRETS, readOnly: true }],
      }),
      // playbooks/restore.ts left a backup's database here: loaded whole or not at all, before Synapse
      // starts; then removed (a copy of every user's data has no business outliving its purpose).
      command({
        name: "the database loaded from the backup being restored",
        run: `${sh`docker exec -i ${containers.postgres} pg_restore -U ${SYNAPSE_DB.user} -d ${SYNAPSE_DB.name} --no-owner --single-transaction --exit-on-error`} <${sh`${dump}`} && ${sh`rm -f -- ${dump}`}`,
        unless: sh`[ ! -f ${dump} ]`,
        commandTimeoutSeconds: 3600,
      }),
    ];
  },
  handlers: () => ({
    "set the database password": command({ name: "the database user's password set from the file", run: SET_PASSWORD }),
    [RESTART_EXPORTER]: containerRestart(containers.postgresExporter),
  }),
  ports: (vars) => [
    ...when(vars.metrics_clients.length, () => metricsRule(vars, "postgres", vars.postgres_exporter_port)),
  ],
  verify: (vars) => [
    check({
      name: "the synapse database is UTF8 with C collation and ctype",
      command: `out=$(${psql(`SELECT pg_encoding_to_char(encoding), datcollate, datctype FROM pg_database WHERE datname = '${SYNAPSE_DB.name}'`)}) && [ "$out" = 'UTF8|C|C' ] && echo "encoding|collate|ctype: $out"`,
      timeoutSeconds: 60,
      failure: `the database ${SYNAPSE_DB.name} is not UTF8 with C collation and ctype, which Synapse refuses (made with other POSTGRES_INITDB_ARGS?)`,
    }),
    unpublishedCheck(containers.postgres, "postgres"),
    privateFilesCheck([`${vars.matrixrtc_config_dir}/postgres/password`]),
    // pg_up 1: the exporter reached the database with the password.
    ...when(vars.metrics_clients.length, () =>
      metricsCheck("the postgres exporter", `http://127.0.0.1:${vars.postgres_exporter_port}/metrics`, "pg_up 1"),
    ),
  ],
});
