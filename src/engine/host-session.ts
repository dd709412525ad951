import { randomBytes } from "node:crypto";
import { hostname, userInfo } from "node:os";
import { posix } from "node:path";
import type { Duplex } from "node:stream";
import { CommandTimeoutError } from "../connection/errors.js";
import type { ExecResult, SshConnection } from "../connection/ssh.js";
import type { Masker } from "./masker.js";
import { InstalledButFailedError } from "./installed-but-failed.js";
import { batchScript, FactReadError, parseBatch, type Fact } from "../facts/fact.js";
import type { UploadStep, WriteStep } from "../ops/operation.js";
import { quote, sh } from "../common/shell.js";
import { HostLockedError, lockScript } from "./host-lock.js";
import { temporaryNames, UPLOAD_STAGING, uploadScript, validateScript, writeScript } from "./host-files.js";

export interface Become {
  user: string;
  password?: string;
}

/** A command's time limit unless its operation sets another: long enough for a slow apt install. */
const DEFAULT_COMMAND_TIMEOUT_SECONDS = 600;

/** sudo drops SSH_CONNECTION: a command run as the become user gets it back (where the host sees this run arrive). */
const KEEP_SSH_CONNECTION = 'env SSH_CONNECTION="$SSH_CONNECTION"';

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
  private readonly breakLock: boolean;
  private readonly warn: (message: string) => void;

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
    /** End the run that holds this host's lock, then take it (--break-lock). */
    breakLock?: boolean;
    warn?: (message: string) => void;
  }) {
    ({
      name: this.name,
      connection: this.connection,
      become: this.become,
      takeLock: this.takeLock,
      openAnother: this.openAnother,
      masker: this.masker,
    } = options);
    this.breakLock = options.breakLock ?? false;
    this.warn = options.warn ?? (() => undefined);
  }

  forward(port: number): Promise<Duplex> {
    return this.connection.tunnel("127.0.0.1", port);
  }

  /**
   * Copies a file of the host to the controller, streamed: by SFTP as the login user, or, with a
   * become user, read by that user and sent on the command's output (the file may be theirs alone).
   */
  async download(remote: string, local: string): Promise<void> {
    this.roundTrips++;
    if (!this.become) return this.connection.download(remote, local);
    const read = await this.connection.execToFile(this.asBecome(sh`cat -- ${remote}`), local, this.sudoInput());
    if (read.code !== 0) throw new Error(`reading ${remote}: ${read.stderr.trim() || `exit ${read.code}`}`);
  }

  async confirmNewConnection(): Promise<void> {
    await (await this.openAnother()).close();
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
    // sudo's password only when sudo asks for it (its prompt, a random marker, on stderr): the lock's
    // stdin stays open for as long as the run, so a refused password must not leave sudo waiting.
    const prompt = `[rigger-sudo-${randomBytes(6).toString("hex")}]`;
    const password = this.become?.password;
    const command = this.asBecome(sh`sh -c ${lockScript(holder, this.breakLock)}`, prompt);
    const answer = await this.connection.hold(
      command,
      /^acquired\n/m,
      password === undefined ? undefined : { prompt, reply: `${password}\n` },
    );
    const lines = answer.stdout.trim().split("\n");
    if (lines.includes("acquired")) {
      const broken = lines.find((line) => line.startsWith("broke: "));
      if (broken)
        this.warn(
          `[${this.name}] --break-lock: ended the run that held the lock (${broken.slice("broke: ".length) || "no holder recorded"})`,
        );
      this.locked = true;
      return;
    }
    if (lines[0] === "busy") throw new HostLockedError(this.name, lines.slice(1).join(" ") || "unknown holder");
    const said = (answer.stderr.trim() || answer.stdout.trim() || "no output")
      .split("\n")
      .filter((line) => line.trim())
      .slice(-3)
      .join("; ");
    throw new Error(`could not take the host lock (exit ${answer.code}): ${said}`);
  }

  /** A command as the become user (sudo), when there is one, with SSH_CONNECTION kept; `prompt`: sudo's prompt for a password. */
  private asBecome(command: string, prompt = ""): string {
    if (!this.become) return command;
    const sudo = this.become.password === undefined ? "sudo -n" : `sudo -S -p ${quote(prompt)}`;
    return `${sudo} -H -u ${quote(this.become.user)} -- ${KEEP_SSH_CONNECTION} ${command}`;
  }

  /** What a command's stdin starts with: sudo's password, where there is one. */
  private sudoInput(): string | undefined {
    return this.become?.password === undefined ? undefined : `${this.become.password}\n`;
  }

  private async readFacts(facts: Fact<unknown>[]): Promise<Map<string, unknown>> {
    const nonce = `@@rigger-${randomBytes(8).toString("hex")}`;
    const result = await this.run(batchScript(facts, nonce));
    if (!result.stdout.includes(nonce))
      throw new Error(`could not read facts (exit ${result.code}): ${result.stderr.trim().split("\n").join("; ")}`);
    return parseBatch(facts, nonce, result.stdout);
  }

  value<T>(fact: Fact<T>): T {
    if (!this.facts.has(fact.key)) throw new Error(`fact ${fact.key} was not gathered`);
    const value = this.facts.get(fact.key);
    if (value instanceof FactReadError) throw value;
    return value as T;
  }

  known<T>(fact: Fact<T>): T | undefined {
    const value = this.facts.get(fact.key);
    return value instanceof FactReadError ? undefined : (value as T | undefined);
  }

  /** After a change, what was read may be stale: everything is read again when next needed. */
  invalidate(): void {
    this.facts.clear();
  }

  close(): Promise<void> {
    return this.connection.close();
  }

  /**
   * Runs a command, as the become user when there is one, under a time limit kept on the host
   * (coreutils `timeout`, then SIGKILL 5 s later): sshd does not pass signals on, so a hung command
   * is ended where it runs. The controller stops waiting a little later in any case.
   */
  async run(
    command: string,
    timeoutSeconds = DEFAULT_COMMAND_TIMEOUT_SECONDS,
    stdin?: string | Buffer,
  ): Promise<ExecResult> {
    if (this.masker?.holdsSecret(command))
      throw new Error(
        "refused to run a command that holds a secret: a command line is visible to every user of the host; pass secrets as file content",
      );
    this.roundTrips++;
    // stdin carries sudo's password: should sudo not ask for it (NOPASSWD, a cached login), the
    // command must not read it, so the command's stdin is /dev/null.
    const guarded = this.sudoInput() === undefined ? command : `exec </dev/null\n${command}`;
    const limited = sh`timeout -k 5 ${timeoutSeconds} sh -c ${guarded}`;
    const backstopMs = (timeoutSeconds + 15) * 1000;
    const started = Date.now();
    const result = await this.connection.exec(this.asBecome(limited), this.sudoInput() ?? stdin, backstopMs);
    // 124 and 137 are also what a command may exit with by itself: only past the limit are they the limit's.
    const timedOut = (result.code === 124 || result.code === 137) && Date.now() - started >= timeoutSeconds * 1000;
    if (timedOut) throw new CommandTimeoutError(timeoutSeconds * 1000);
    return result;
  }

  /**
   * Where a script finds content it is given: on its stdin (one exec, returns undefined) unless stdin
   * carries sudo's password; then put by SFTP, as the login user, at `path` (in /tmp, 0600), which is returned.
   */
  private async stage(content: string | Buffer, path: string): Promise<string | undefined> {
    if (this.become?.password === undefined) return undefined;
    this.roundTrips++;
    await this.connection.putFile(path, content, 0o600);
    return path;
  }

  /**
   * Runs a write's validator on its content in a private temporary file, changing nothing else (for
   * check mode); returns the validator's words when it refuses.
   */
  async validate(step: WriteStep): Promise<string | undefined> {
    if (!step.validate) return undefined;
    const staged = await this.stage(step.content, `/tmp/.rigger-check-${randomBytes(6).toString("hex")}`);
    const result = await this.run(validateScript(step.validate, staged), undefined, staged ? undefined : step.content);
    return result.code === 0 ? undefined : result.stderr.trim() || `the validator exited ${result.code}`;
  }

  /**
   * Writes a file all or nothing: the content goes to a temporary name beside it (mode 0600, so a
   * secret is never readable on the way), then in one command: its checksum against the one wanted
   * (a link cut mid-transfer leaves a prefix, which must never go live), owner and mode,
   * validation, a backup of the old content outside any config directory, the rename, and only
   * then `then` (what is owed after the change). Any failure leaves the old file live and no
   * temporary behind.
   */
  async write(step: WriteStep): Promise<{ backup?: string }> {
    const names = temporaryNames(step.path, randomBytes(6).toString("hex"));
    const temporary = names.beside;
    const staged = await this.stage(step.content, names.staged);
    const script = writeScript(step, temporary, staged);
    const result = await this.run(script, undefined, staged ? undefined : step.content);
    const installed = /^installed(?:, backup: (.+))?$/m.exec(result.stdout);
    const backup = installed?.[1];
    if (result.code === 0) return { backup };
    const message = `writing ${step.path}: ${result.stderr.trim() || `exit ${result.code}`}`;
    throw installed ? new InstalledButFailedError(message, backup) : new Error(message);
  }

  /**
   * Copies a file of the controller to the host by SFTP, streamed (an archive may not fit in
   * memory), all or nothing: to a private temporary beside the target, or, when a become user is to
   * move it (SFTP being the login user's), into a private folder of /var/tmp (on disk, where /tmp
   * may be memory); then in one command moved beside the target, checked whole against its sha256,
   * given owner and mode, and renamed over it. A cut leaves the old file live; the next upload
   * removes what a cut left.
   */
  async upload(step: UploadStep): Promise<void> {
    const suffix = randomBytes(6).toString("hex");
    const names = temporaryNames(step.path, suffix);
    const folder = this.become ? `${UPLOAD_STAGING}${suffix}` : "";
    const sent = folder ? `${folder}/${posix.basename(step.path)}` : names.beside;
    this.roundTrips++;
    if (folder) await this.connection.makeDirectory(folder, 0o700);
    await this.connection.upload(step.source, sent, 0o600);
    const script = uploadScript(step, names.beside, sent, folder);
    const result = await this.run(script);
    if (result.code !== 0) throw new Error(`uploading ${step.path}: ${result.stderr.trim() || `exit ${result.code}`}`);
  }

  /** Puts back what write() replaced (its backup), or removes what it created; atomically, as write() does. */
  async restore(written: { path: string; backup?: string }): Promise<void> {
    const command = written.backup
      ? sh`tmp=${`${written.path}.rigger-restore`} && cp -p -- ${written.backup} "$tmp" && mv -f -- "$tmp" ${written.path}`
      : sh`rm -f -- ${written.path}`;
    const result = await this.run(command);
    if (result.code !== 0)
      throw new Error(`restoring ${written.path}: ${result.stderr.trim() || `exit ${result.code}`}`);
  }
}
