/**
 * A homeserver's day two: users registered, a backup (playbooks/backup.ts) fetched here, the host
 * destroyed, the backup restored onto a new host (playbooks/restore.ts): the same users log in, the
 * signing key is the same, a call goes through; then an image upgrade there backs up first. A
 * restore with another secrets store is refused before anything is put in place. PostgreSQL,
 * Caddy, LiveKit and coturn are real; Synapse and the jwt service are the stand-ins
 * (test/standins/), Synapse's keeping its users and tokens in that PostgreSQL.
 */
import { createHash } from "node:crypto";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { SshConnection } from "../../src/connection/ssh.js";
import { stackClient, type MatrixUser } from "../helpers/matrix-client.js";
import { rigger } from "../helpers/rigger.js";
import { NAMES, stackInventory, TEAR_DOWN_STACK } from "../helpers/stack.js";
import { describeHosts, pushDerivedImage, serviceImages } from "../testbed/testbed.js";

const [SOURCE, TARGET, STRANGER] = ["th6", "th7", "th8"];
const SIGNING_KEY = "cat /etc/matrixrtc/synapse/signing.key";

describeHosts("a homeserver backed up, its host destroyed, and restored onto a new host", (testbed) => {
  const hosts = new Map<string, SshConnection>();
  const on = (name: string) => hosts.get(name)!;
  const ipOf = (name: string) => testbed().hosts.find((h) => h.name === name)!.ip;
  const fetched = mkdtempSync(join(tmpdir(), "rigger-backups-"));
  let source: string;
  let target: string;
  let users: MatrixUser[];
  let signingKey: string;

  beforeAll(async () => {
    // Bare hosts, whatever an earlier suite left on them.
    for (const name of [SOURCE, TARGET, STRANGER]) {
      hosts.set(name, await SshConnection.open(testbed().target(name)));
      await on(name).exec(TEAR_DOWN_STACK);
    }
    source = stackInventory(testbed(), SOURCE);
    const deployed = await rigger("playbooks/site.ts", "-i", source);
    expect(deployed.code, deployed.out).toBe(0);
    const client = stackClient({ inventory: source, proxyIp: ipOf(SOURCE), homeserver: () => on(SOURCE) });
    const stamp = Date.now();
    users = await Promise.all([`ana${stamp}`, `bo${stamp}`].map((name) => client.register(name)));
    signingKey = (await on(SOURCE).exec(SIGNING_KEY)).stdout;
  }, 300_000);
  afterAll(async () => {
    for (const host of hosts.values()) {
      await host.exec(TEAR_DOWN_STACK);
      host.close();
    }
  });

  it("backs up the database, media, keys and configs into one private archive on the host, fetched here with the secrets store beside it", async () => {
    const backup = await rigger("playbooks/backup.ts", "-i", source, "-e", `backup_fetch_dir=${fetched}`, "-v");
    expect(backup.code, backup.out).toBe(0);
    expect(backup.out).toContain(`[${SOURCE}] backup_now | a backup made on the host: changed`);
    const [archive] = readdirSync(join(fetched, SOURCE)).filter((f) => f.endsWith(".tar.gz"));
    expect(archive).toMatch(/^matrixrtc-\d{8}T\d{6}Z\.tar\.gz$/);
    const local = join(fetched, SOURCE, archive!);
    expect(statSync(local).mode & 0o777).toBe(0o600);
    for (const file of ["secrets.yaml", "secrets.recipients"])
      expect(readFileSync(local.replace(/\.tar\.gz$/, `.${file}`), "utf8")).toBe(
        readFileSync(join(source, file), "utf8"),
      );
    const onHost = await on(SOURCE).exec(
      `cd /var/backups/matrixrtc && stat -c '%a %n' ${archive} && sha256sum ${archive} && tar -tzf ${archive} | sort`,
    );
    expect(onHost.stdout).toContain(`600 ${archive}`);
    expect(onHost.stdout).toContain(createHashOf(local));
    expect(onHost.stdout).toMatch(/\.\/SHA256SUMS\n\.\/config\.tar\n\.\/synapse-data\.tar\n\.\/synapse\.pgdump\n/);
    // The timer makes the same archive on its own.
    expect((await on(SOURCE).exec("systemctl is-active matrixrtc-backup.timer")).stdout.trim()).toBe("active");
  }, 120_000);

  it("restores it onto a new host after the old one is destroyed: the same users log in, the same signing key, and they call each other", async () => {
    await on(SOURCE).exec(TEAR_DOWN_STACK);
    expect((await on(SOURCE).exec("ls /etc/matrixrtc /var/lib/matrixrtc 2>&1")).stdout).toContain("No such file");
    const archive = backupIn(fetched, SOURCE);
    // The operator's inventory for the new host, with the store saved beside the backup.
    target = stackInventory(testbed(), TARGET);
    for (const file of ["secrets.yaml", "secrets.recipients"])
      copyFileSync(archive.replace(/\.tar\.gz$/, `.${file}`), join(target, file));
    const restored = await rigger("playbooks/restore.ts", "-i", target, "-e", `restore_archive=${archive}`);
    expect(restored.code, restored.out).toBe(0);
    expect(restored.out).toMatch(
      new RegExp(`\\[${TARGET}\\] restore \\| the backup put in place \\(matrixrtc-\\w+\\.tar\\.gz\\): changed`),
    );
    expect(restored.out).toContain(
      `[${TARGET}] postgres | the database loaded from the backup being restored: changed`,
    );
    expect((await on(TARGET).exec(SIGNING_KEY)).stdout).toBe(signingKey);

    const client = stackClient({ inventory: target, proxyIp: ipOf(TARGET), homeserver: () => on(TARGET) });
    const loggedIn = await Promise.all(
      users.map(async (user) => {
        const localpart = user.user_id.slice(1).split(":")[0]!;
        const session = await client.https(NAMES.matrix_host, "/_matrix/client/v3/login", {
          type: "m.login.password",
          identifier: { type: "m.id.user", user: localpart },
          password: `${localpart}-password-0123456789`,
        });
        expect(session.user_id, JSON.stringify(session)).toBe(user.user_id);
        return session as MatrixUser;
      }),
    );
    // An access token from before the backup is still good: the database came back whole.
    expect((await client.matrix(users[0]!, "GET", "/_matrix/client/v3/account/whoami")).user_id).toBe(
      users[0]!.user_id,
    );
    const { room_id } = await client.matrix(loggedIn[0]!, "POST", "/_matrix/client/v3/createRoom", {});
    await client.matrix(loggedIn[1]!, "POST", `/_matrix/client/v3/join/${encodeURIComponent(room_id)}`, {});
    const [publisher, subscriber] = await Promise.all(loggedIn.map((user) => client.grant(user, room_id)));
    const outcome = await client.call({ publisher: publisher!, subscriber: subscriber! });
    expect(outcome, outcome.error).toMatchObject({ ok: true });

    // A second run of the restore puts nothing back over the live homeserver.
    const again = await rigger(
      "playbooks/restore.ts",
      "-i",
      target,
      "-e",
      `restore_archive=${archive}`,
      "-t",
      "restore",
    );
    expect(again.code, again.out).toBe(0);
    expect(again.out).toMatch(/restore \| the backup put in place \(matrixrtc-\w+\.tar\.gz\): ok/);
  }, 300_000);

  it("backs up before an image change of a data-holding container", async () => {
    const base = /synapse_image: (\S+)/.exec(serviceImages())![1]!;
    const next = pushDerivedImage(`${base}-next`, `FROM ${base}\nLABEL rigger.test=upgrade\n`);
    const count = async () =>
      Number((await on(TARGET).exec("ls /var/backups/matrixrtc/matrixrtc-*.tar.gz 2>/dev/null | wc -l")).stdout.trim());
    const before = await count();
    const upgraded = await rigger("playbooks/site.ts", "-i", target, "-e", `synapse_image=${next}`, "-t", "synapse");
    expect(upgraded.code, upgraded.out).toBe(0);
    expect(upgraded.out).toContain(
      `[${TARGET}] synapse | container matrixrtc-synapse: a new image: backing up before the upgrade`,
    );
    expect(await count()).toBe(before + 1);
  }, 180_000);

  it("rolls a rotated database password out to PostgreSQL and Synapse: the users still log in", async () => {
    const rotate = await rigger("secrets", "rotate", "-i", target, "synapse_postgres_password");
    expect(rotate.code, rotate.out + rotate.err).toBe(0);
    const rotated = await rigger("playbooks/site.ts", "-i", target, "-t", "postgres,synapse");
    expect(rotated.code, rotated.out).toBe(0);
    expect(rotated.out).toContain(`[${TARGET}] postgres | handler: set the database password: changed`);
    expect(rotated.out).toContain(`[${TARGET}] synapse | handler: restart synapse: changed`);
    const client = stackClient({ inventory: target, proxyIp: ipOf(TARGET), homeserver: () => on(TARGET) });
    await expect
      .poll(async () => (await client.matrix(users[0]!, "GET", "/_matrix/client/v3/account/whoami")).user_id, {
        timeout: 30_000,
        interval: 1000,
      })
      .toBe(users[0]!.user_id);
  }, 120_000);

  it("keeps Synapse's database checks: the stand-in refuses a database whose collation is not C, with Synapse's words", async () => {
    const image = (name: string) => new RegExp(`${name}_image: (\\S+)`).exec(serviceImages())![1]!;
    const dir = "/tmp/standin-db-check";
    const config = [
      "server_name: example.test",
      `signing_key_path: /config/signing.key`,
      "listeners: []",
      "database: { name: psycopg2, args: { user: synapse, password: 0123456789abcdef0123456789abcdef, dbname: synapse, host: standin-pg, port: 5432 } }",
    ].join("\n");
    const checked = await on(TARGET).exec(
      [
        `mkdir -p ${dir} && printf '%s\\n' '${config}' >${dir}/homeserver.yaml && cp /etc/matrixrtc/synapse/signing.key ${dir}/`,
        "docker network create standin-db-check >/dev/null",
        `docker run -d --name standin-pg --network standin-db-check -e POSTGRES_USER=synapse -e POSTGRES_PASSWORD=0123456789abcdef0123456789abcdef -e 'POSTGRES_INITDB_ARGS=--encoding=UTF8 --locale=C.UTF-8' ${image("postgres")} >/dev/null`,
        "timeout 60 sh -c 'until docker exec standin-pg pg_isready -q -h 127.0.0.1 -U synapse; do sleep 1; done'",
        `timeout 60 docker run --rm --network standin-db-check -v ${dir}:/config:ro -e SYNAPSE_CONFIG_PATH=/config/homeserver.yaml ${image("synapse")}; echo "exit $?"`,
      ].join(" && ") +
        `; docker rm -f standin-pg >/dev/null; docker network rm standin-db-check >/dev/null; rm -rf ${dir}`,
    );
    expect(checked.stdout + checked.stderr).toContain(
      "fatal: the database: Database has incorrect collation of 'C.UTF-8'. Should be 'C'",
    );
    expect(checked.stdout).toContain("exit 1");
  }, 120_000);

  it("refuses a restore whose secrets store is not the backup's, before anything is put in place", async () => {
    const archive = backupIn(fetched, SOURCE);
    const stranger = stackInventory(testbed(), STRANGER);
    const refused = await rigger("playbooks/restore.ts", "-i", stranger, "-e", `restore_archive=${archive}`);
    expect(refused.code, refused.out).toBe(2);
    expect(refused.out).toContain("the backup's signing key is not the one in this inventory's secrets store");
    expect((await on(STRANGER).exec("ls /etc/matrixrtc /var/lib/matrixrtc 2>&1")).stdout).toContain("No such file");
  }, 120_000);

  it("backs up SQLite (npm run try's database) by its online backup while Synapse runs, and restores it", async () => {
    const tried = stackInventory(testbed(), STRANGER, "synapse_database: sqlite");
    const deployed = await rigger("playbooks/site.ts", "-i", tried);
    expect(deployed.code, deployed.out).toBe(0);
    const started = async (host: string) =>
      (await on(host).exec("docker inspect -f '{{.State.StartedAt}}' matrixrtc-synapse")).stdout;
    const before = await started(STRANGER);
    const backup = await rigger("playbooks/backup.ts", "-i", tried, "-e", `backup_fetch_dir=${fetched}`);
    expect(backup.code, backup.out).toBe(0);
    expect(await started(STRANGER)).toBe(before);
    const archive = backupIn(fetched, STRANGER);
    expect((await on(STRANGER).exec(`tar -tzf /var/backups/matrixrtc/latest | sort`)).stdout).toMatch(
      /\.\/SHA256SUMS\n\.\/config\.tar\n\.\/synapse-data\.tar\n\.\/synapse\.sqlite\n/,
    );
    // Onto the first host, bare since its homeserver was destroyed.
    const again = stackInventory(testbed(), SOURCE, "synapse_database: sqlite");
    for (const file of ["secrets.yaml", "secrets.recipients"])
      copyFileSync(archive.replace(/\.tar\.gz$/, `.${file}`), join(again, file));
    const restored = await rigger("playbooks/restore.ts", "-i", again, "-e", `restore_archive=${archive}`);
    expect(restored.code, restored.out).toBe(0);
    expect((await on(SOURCE).exec("stat -c '%a %u' /var/lib/matrixrtc/synapse/homeserver.db")).stdout.trim()).toBe(
      "600 991",
    );
    expect((await on(SOURCE).exec(SIGNING_KEY)).stdout).toBe((await on(STRANGER).exec(SIGNING_KEY)).stdout);
  }, 300_000);
});

/** The archive fetched from a host. */
function backupIn(dir: string, host: string): string {
  return join(
    dir,
    host,
    readdirSync(join(dir, host)).find((f) => f.endsWith(".tar.gz"))!,
  );
}

function createHashOf(path: string): string {
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}
