import { createHash } from "node:crypto";
import {
  chmodSync,
  copyFileSync,
  createReadStream,
  existsSync,
  mkdirSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
} from "node:fs";
import { join } from "node:path";
import { sh, type HostAccess } from "../../src/rigger.js";
import { ARCHIVE_NAME } from "../backup/script.js";
import type { BackupNowVars } from "./vars.js";

/** The inventory's secrets store and who it is encrypted for: a restore needs both. */
const STORE_FILES = ["secrets.yaml", "secrets.recipients"];

const sha256Of = (path: string) =>
  new Promise<string>((resolve, reject) => {
    const hash = createHash("sha256");
    createReadStream(path)
      .on("data", (chunk) => hash.update(chunk))
      .on("end", () => resolve(hash.digest("hex")))
      .on("error", reject);
  });

/**
 * Fetches the host's newest backup to the controller (a folder per host, private), checked against
 * the host's sha256; keeps the inventory's secrets store (ciphertext, and its recipients) beside it, since the archive's
 * secrets only mean something with the store that holds them; keeps the newest backup_keep.
 */
export async function fetchLatest(host: HostAccess, vars: BackupNowVars): Promise<string> {
  // The newest archive's name and its sha256, in one round trip.
  const latest = await host.run(`${sh`cd ${vars.backup_dir}`} && name=$(readlink latest) && sha256sum -- "$name"`);
  const [expected = "", name = ""] = latest.stdout.trim().split(/\s+/);
  if (latest.code !== 0 || !ARCHIVE_NAME.test(name))
    throw new Error(
      `${vars.backup_dir}/latest does not name a backup (${latest.stderr.trim() || latest.stdout.trim()})`,
    );
  const remote = `${vars.backup_dir}/${name}`;
  const dir = join(vars.backup_fetch_dir, host.name);
  // The archive holds the homeserver's keys in clear: for this user's eyes only.
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
  const local = join(dir, name);
  const partial = `${local}.partial`;
  // A cut or stalled link fails the download; what came of it is removed, never mistaken for a backup.
  try {
    await host.download(remote, partial);
    if ((await sha256Of(partial)) !== expected)
      throw new Error(`${remote}: the copy fetched does not match its sha256 on the host`);
  } catch (error) {
    rmSync(partial, { force: true });
    throw error;
  }
  chmodSync(partial, 0o600);
  renameSync(partial, local);
  const stem = name.replace(/\.tar\.gz$/, "");
  const kept = STORE_FILES.filter((file) => existsSync(join(vars.inventory_dir, file)));
  for (const file of kept) {
    copyFileSync(join(vars.inventory_dir, file), join(dir, `${stem}.${file}`));
    chmodSync(join(dir, `${stem}.${file}`), 0o600);
  }
  const backups = readdirSync(dir)
    .filter((f) => ARCHIVE_NAME.test(f))
    .sort()
    .reverse();
  for (const old of backups.slice(vars.backup_keep)) {
    const oldStem = old.replace(/\.tar\.gz$/, "");
    for (const f of [old, ...STORE_FILES.map((file) => `${oldStem}.${file}`)]) rmSync(join(dir, f), { force: true });
  }
  return `${local}: ${statSync(local).size} bytes, sha256 ${expected}${kept.length ? `; beside it ${kept.map((file) => `${stem}.${file}`).join(", ")}` : ""}`;
}
