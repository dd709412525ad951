import { randomBytes } from "node:crypto";
import { hostname, userInfo } from "node:os";
import { posix } from "node:path";
import type { Duplex } from "node:stream";
import { CommandTimeoutError } from "../connection/errors.js";
import type { ExecResult, SshConnection } from "../connection/ssh.js";
import type { Masker } from "./masker.js";
import { batchScript, parseBatch, type Fact } from "../facts/fact.js";
import type { WriteStep } from "../ops/operation.js";
import { octalMode } from "../common/mode.js";
import { quote, raw, sh } from "../common/shell.js";

export interface Become {
  user: string;
  password?: string;
}

export class HostLockedError extends Error {
  constructor(host: string, holder: string) {
    super(`${host} is being changed by another run (${holder}); try again when it has finished`);
    this.name = "HostLockedError";
  }
}

const LOCK_FILE = "/run/lock/rigger.lock";
const BACKUP_DIR = "/var/backups/rigger";
const BACKUPS_KEPT = 5;
/** A command's time limit unless its operation sets another: long enough for a slow apt install. */
const DEFAULT_COMMAND_TIMEOUT_SECONDS = 600;

/**
 * The host lock: flock on a file in /run/lock (atomic: of two runs started together exactly one
 * gets it), held by a command that lives as long as this run's SSH connection, so a run that died
 * frees it at once. Open to every login user (0666 in the sticky /run/lock): runs as different
 * users exclude each other too. Prints "acquired", or "busy" and who holds it.
 */
const lockScript = (holder: string) => sh`
umask 000; [ -e ${LOCK_FILE} ] || : >> ${LOCK_FILE}
exec 9< ${LOCK_FILE}
if ! flock -n 9; then echo busy; cat ${`${LOCK_FILE}.holder`} 2>/dev/null; exit 0; fi
echo ${holder} > ${`${LOCK_FILE}.holder`}
echo acquired
exec cat >/dev/null`;

/** One host's side of a run: its connection, its fact cache, privilege escalation and the host lock. */
export class HostSession {
  roundTrips = 0;
  private readonly facts = new Map<string, unknown>();
  private locked = false;

  readonly name: string;
  private readonly connection: SshConnection;
  private readonly become: Become | undefined;
  private readonly takeLock: boolean;
  private readonly openAnother: () => Promise<SshConnection>;
  private readonly masker: Masker | undefined;

  constructor(options: {
    name: string;
    connection: SshConnection;
    become?: Become;
    /** Changing runs take the host lock; check runs read only and do not. */
    takeLock: boolean;
    /** Opens a new connection to the same host (the proof after a firewall change). */
    openAnother: () => Promise<SshConnection>;
    /** Knows the run's secrets: a command holding one is refused (it would show in the host's process list). */
    masker?: Masker;
  }) {
    ({ name: this.name, connection: this.connection, become: this.become, takeLock: this.takeLock, openAnother: this.openAnother, masker: this.masker } = options);
  }

  forward(port: number): Promise<Duplex> {
    return this.connection.tunnel("127.0.0.1", port);
  }

  async confirmNewConnection(): Promise<void> {
    (await this.openAnother()).close();
  }

  /** Reads every fact not yet cached in one round trip (the host lock is taken alongside the first). */
  async gather(wanted: Fact<unknown>[]): Promise<void> {
    const missing = [...new Map(wanted.filter((f) => !this.facts.has(f.key)).map((f) => [f.key, f])).values()];
    const lock = this.takeLock && !this.locked ? this.lock() : undefined;
    const read = missing.length ? this.readFacts(missing) : undefined;
    // Both settle before either may fail the host: no read is left running behind a refused lock.
    const [locked, values] = await Promise.allSettled([lock, read]);
    if (locked.status === "rejected") throw locked.reason;
    if (values.status === "rejected") throw values.reason;
    for (const [key, value] of values.value ?? []) this.facts.set(key, value);
  }

  private async lock(): Promise<void> {
    const holder = `rigger pid ${process.pid} on ${hostname()} by ${userInfo().username}, since ${new Date().toISOString()}`;
    const [state = "", ...rest] = (await this.connection.hold(lockScript(holder), /^acquired\n/m)).trim().split("\n");
    if (state !== "acquired") throw new HostLockedError(this.name, rest.join(" ") || "unknown holder");
    this.locked = true;
  }

  private async readFacts(facts: Fact<unknown>[]): Promise<Map<string, unknown>> {
    const nonce = `@@rigger-${randomBytes(8).toString("hex")}`;
    const result = await this.run(batchScript(facts, nonce));
    if (!result.stdout.includes(nonce)) throw new Error(`could not read facts (exit ${result.code}): ${result.stderr.trim().split("\n").join("; ")}`);
    return parseBatch(facts, nonce, result.stdout);
  }

  value<T>(fact: Fact<T>): T {
    if (!this.facts.has(fact.key)) throw new Error(`fact ${fact.key} was not gathered`);
    return this.facts.get(fact.key) as T;
  }

  known<T>(fact: Fact<T>): T | undefined {
    return this.facts.get(fact.key) as T | undefined;
  }

  /** After a change, what was read may be stale: everything is read again when next needed. */
  invalidate(): void {
    this.facts.clear();
  }

  close(): void {
    this.connection.close();
  }

  /**
   * Runs a command, as the become user when there is one, under a time limit kept on the host
   * (coreutils `timeout`, then SIGKILL 5 s later): sshd does not pass signals on, so a hung command
   * is ended where it runs. The controller stops waiting a little later in any case.
   */
  async run(command: string, timeoutSeconds = DEFAULT_COMMAND_TIMEOUT_SECONDS, stdin?: string | Buffer): Promise<ExecResult> {
    if (this.masker?.holdsSecret(command))
      throw new Error("refused to run a command that holds a secret: a command line is visible to every user of the host; pass secrets as file content");
    this.roundTrips++;
    const limited = sh`timeout -k 5 ${timeoutSeconds} sh -c ${command}`;
    const backstopMs = (timeoutSeconds + 15) * 1000;
    const input = this.become?.password === undefined ? stdin : `${this.become.password}\n`;
    const sudo = this.become && (this.become.password === undefined ? "sudo -n" : "sudo -S -p ''");
    const wrapped = this.become ? `${sudo} -H -u ${quote(this.become.user)} -- ${limited}` : limited;
    const result = await this.connection.exec(wrapped, input, backstopMs);
    if (result.code === 124 || result.code === 137) throw new CommandTimeoutError(timeoutSeconds * 1000);
    return result;
  }

  /**
   * Writes a file atomically: SFTP to a temporary name beside it (mode 0600, so a secret is never
   * readable on the way), then in one command: owner and mode, validation, a backup of the old
   * content outside any config directory, and the rename. A failed validation leaves the old file live.
   */
  async write(step: WriteStep): Promise<void> {
    const suffix = randomBytes(6).toString("hex");
    const [dir, base] = [posix.dirname(step.path), posix.basename(step.path)];
    const temporary = posix.join(dir, `.rigger-${suffix}-${base}`);
    // The content goes on the script's stdin (one exec) unless stdin carries sudo's password; then by
    // SFTP as the login user, who cannot write into /etc: staged in /tmp, moved by the become user.
    const viaStdin = this.become?.password === undefined;
    const staged = this.become && !viaStdin ? `/tmp/.rigger-${suffix}-${base}` : temporary;
    if (!viaStdin) {
      this.roundTrips++;
      await this.connection.putFile(staged, step.content, 0o600);
    }
    const backupName = step.path.replace(/^\//, "").replace(/\//g, "__");
    const validate = step.validate ? step.validate.split("%s").join(quote(temporary)) : "";
    // Runs hold the host lock, so another temporary file of this target is a dead run's leftover.
    const leftovers = (d: string) => sh`for f in ${raw(`${quote(d)}/.rigger-*-${quote(base)}`)}; do [ "$f" = ${temporary} ] || [ "$f" = ${staged} ] || rm -f "$f"; done`;
    const script = [
      "set -e",
      leftovers(dir),
      staged !== temporary ? leftovers("/tmp") : "",
      staged !== temporary ? sh`mv -f ${staged} ${temporary}` : "",
      sh`trap 'rm -f ${temporary}' EXIT`,
      viaStdin ? sh`(umask 077 && cat > ${temporary})` : "",
      sh`chown ${`${step.owner}:${step.group}`} ${temporary}`,
      sh`chmod ${octalMode(step.mode)} ${temporary}`,
      validate ? `if ! out=$(${validate} 2>&1); then echo "validation failed: $out" >&2; exit 3; fi` : "",
      sh`if [ -f ${step.path} ]; then install -d -m 700 ${BACKUP_DIR}; cp -p ${step.path} ${`${BACKUP_DIR}/${backupName}`}.$(date +%Y%m%dT%H%M%S%N);`,
      // Only this file's backups: its name, a dot, then the timestamp (another file's name may start with this one's).
      sh`  ls -1t ${BACKUP_DIR}/${backupName}${raw(".[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T*")} | tail -n +${BACKUPS_KEPT + 1} | xargs -r rm -f; fi`,
      sh`mv -f ${temporary} ${step.path}`,
      step.then ?? "",
    ].filter(Boolean).join("\n");
    const result = await this.run(script, undefined, viaStdin ? step.content : undefined);
    if (result.code !== 0) throw new Error(`writing ${step.path}: ${result.stderr.trim() || `exit ${result.code}`}`);
  }
}
