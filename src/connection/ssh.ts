import { createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { connect as tcpConnect } from "node:net";
import type { Duplex } from "node:stream";
import { Client, type ClientChannel, type ConnectConfig, type SFTPWrapper } from "ssh2";
import { AuthenticationError, CommandTimeoutError, ConnectionError, HostKeyError, UnreachableError } from "./errors.js";
import { authMethods, hostKeyAlgorithms } from "./auth.js";
import { readKnownHosts, verifyHostKey } from "./host-key.js";
import { keysForHost, keyTypeOf, parseKnownHosts } from "./known-hosts.js";
import { Semaphore } from "./semaphore.js";
import { collect, watchLiveness, type ExecResult } from "./channel-io.js";
import { classifyConnectError, type SshTarget } from "./ssh-target.js";

export type { ExecResult } from "./channel-io.js";

/** Patient enough for a Wi-Fi roam, a VPN rekey or a write queued on a slow uplink: a minute of silence. */
const SSH_DEFAULTS = { connectTimeoutMs: 10_000, keepaliveIntervalMs: 15_000, keepaliveCountMax: 4, maxChannels: 6 };
const CHANNEL_OPEN_ATTEMPTS = 5;
/** How long a closing connection may wait for its peer's goodbye before its socket is dropped. */
const CLOSE_WAIT_MS = 1000;

/** One SSH connection to one host, shared by every command and file transfer of a run. */
export class SshConnection {
  private failure: ConnectionError | undefined;
  private sftpSession: Promise<SFTPWrapper> | undefined;
  private readonly pending = new Set<(error: ConnectionError) => void>();
  private readonly closed: Promise<void>;

  private constructor(
    readonly target: SshTarget,
    private readonly client: Client,
    private readonly channels: Semaphore,
  ) {
    const lost = (reason: string) => {
      this.failure ??= new UnreachableError(target.name, reason);
      for (const reject of this.pending) reject(this.failure);
      this.pending.clear();
    };
    client.on("error", (error) => lost(error.message));
    client.on("close", () => lost("the connection closed"));
    this.closed = new Promise((resolve) => client.once("close", () => resolve()));
  }

  static async open(target: SshTarget): Promise<SshConnection> {
    const settings = { ...SSH_DEFAULTS, ...target };
    const jump = target.jump ? await SshConnection.open(target.jump) : undefined;
    try {
      const sock = jump
        ? await jump.tunnel(target.host, target.port).catch((error: Error) => {
            throw new UnreachableError(jump.target.name, error.message);
          })
        : undefined;
      const connection = await SshConnection.connect(target, settings, sock);
      if (jump) connection.client.on("close", () => jump.close());
      return connection;
    } catch (error) {
      jump?.close();
      throw error;
    }
  }

  /** A TCP stream to host:port opened from this host: a ProxyJump's next hop, or an API it serves on loopback. */
  tunnel(host: string, port: number): Promise<ClientChannel> {
    return this.guard((resolve, reject) =>
      this.client.forwardOut("127.0.0.1", 0, host, port, (error, stream) =>
        error ? reject(new Error(`cannot reach ${host}:${port} from here: ${error.message}`)) : resolve(stream),
      ),
    );
  }

  private static async connect(
    target: SshTarget,
    settings: typeof SSH_DEFAULTS,
    tunnel: ClientChannel | undefined,
  ): Promise<SshConnection> {
    const knownHosts = await readKnownHosts(target.knownHostsFile);
    const knownTypes = keysForHost(parseKnownHosts(knownHosts), target.host, target.port).map((entry) =>
      keyTypeOf(entry.key),
    );
    let hostKeyFailure: HostKeyError | undefined;
    const authHandler = await authMethods(target.user, target.privateKeyFile).catch((error: Error) => {
      throw new AuthenticationError(target.name, target.user, error.message);
    });
    const client = new Client();
    // Our own socket, so that every byte heard from the host counts as life (see watchLiveness).
    const sock: Duplex = tunnel ?? tcpConnect({ host: target.host, port: target.port });
    const config: ConnectConfig = {
      host: target.host,
      port: target.port,
      sock,
      username: target.user,
      authHandler,
      algorithms: {
        serverHostKey: hostKeyAlgorithms(knownTypes) as NonNullable<ConnectConfig["algorithms"]>["serverHostKey"],
      },
      readyTimeout: settings.connectTimeoutMs,
      // ssh2 pings each interval but counts only the answers to its pings, which queue behind an
      // upload on a slow link: it pings and never gives up; watchLiveness decides.
      keepaliveInterval: settings.keepaliveIntervalMs,
      keepaliveCountMax: Number.MAX_SAFE_INTEGER,
      hostVerifier: (key: Buffer, verify: (valid: boolean) => void) => {
        verifyHostKey(target, knownHosts, key).then(
          () => verify(true),
          (error: HostKeyError) => {
            hostKeyFailure = error;
            verify(false);
          },
        );
      },
    };
    await new Promise<void>((resolve, reject) => {
      const fail = (error: Error & { level?: string }) => {
        client.removeListener("ready", resolve);
        // A refused handshake can be followed by a reset of the same socket: keep listening, quietly.
        client.on("error", () => undefined);
        client.destroy();
        reject(hostKeyFailure ?? classifyConnectError(target, error));
      };
      client.once("ready", () => {
        client.removeListener("error", fail);
        resolve();
      });
      client.once("error", fail);
      client.connect(config);
    });
    const connection = new SshConnection(target, client, new Semaphore(settings.maxChannels));
    watchLiveness(sock, settings.keepaliveIntervalMs, settings.keepaliveCountMax, (silence) =>
      connection.abandon(silence),
    );
    return connection;
  }

  /** Ends a connection the host no longer answers on: everything waiting on it fails as unreachable. */
  private abandon(reason: string): void {
    this.failure ??= new UnreachableError(this.target.name, reason);
    this.client.destroy();
  }

  /**
   * Runs a shell command; a non-zero exit is a result, not an error. A command still running after
   * `timeoutMs` is killed (SIGKILL, then its channel closed) and rejected with a CommandTimeoutError.
   */
  exec(command: string, input?: string | Buffer, timeoutMs?: number): Promise<ExecResult> {
    return this.channels.run(() => this.execOnChannel(command, input, timeoutMs, CHANNEL_OPEN_ATTEMPTS));
  }

  /**
   * sshd frees a session slot a moment after the client sees the channel close, so a refused
   * channel open is retried briefly before it counts as an error.
   */
  private async execOnChannel(
    command: string,
    input: string | Buffer | undefined,
    timeoutMs: number | undefined,
    attempts: number,
  ): Promise<ExecResult> {
    // The output is collected inside the callback: an exit status is an event, lost if heard late.
    const outcome = await this.guard<ExecResult | Error>((resolve) =>
      this.client.exec(command, (error, channel) =>
        error ? resolve(error) : collect(channel, input, timeoutMs).then(resolve),
      ),
    );
    if (outcome instanceof CommandTimeoutError) throw outcome;
    if (!(outcome instanceof Error)) return outcome;
    if (attempts <= 1) throw new Error(`${this.target.name}: could not open an SSH channel: ${outcome.message}`);
    await new Promise((wait) => setTimeout(wait, 20 * (CHANNEL_OPEN_ATTEMPTS - attempts + 1)));
    return this.execOnChannel(command, input, timeoutMs, attempts - 1);
  }

  /**
   * Starts a command that lives as long as this connection (it holds something, such as a lock)
   * and resolves with what it printed once its output matches `ready` (code -1: still running), or
   * when it exits. Its stdin stays open. `answer`: when `prompt` shows on its stderr, `reply` is
   * written to its stdin; shown again (the reply was refused), stdin is closed. It has a channel
   * of its own, outside the limit.
   */
  hold(command: string, ready: RegExp, answer?: { prompt: string; reply: string }): Promise<ExecResult> {
    return this.guard<ExecResult>((resolve, reject) =>
      this.client.exec(command, (error, channel) => {
        if (error) return reject(error);
        let [stdout, stderr, code, prompts] = ["", "", -1, 0];
        const settle = () => resolve({ code, stdout, stderr });
        channel.on("data", (chunk: Buffer) => {
          stdout += chunk.toString();
          if (ready.test(stdout)) settle();
        });
        channel.stderr.on("data", (chunk: Buffer) => {
          stderr += chunk.toString();
          if (!answer || !stderr.includes(answer.prompt)) return;
          stderr = stderr.split(answer.prompt).join("");
          if (prompts++ === 0) channel.write(answer.reply);
          else channel.end();
        });
        channel.on("exit", (exitCode: number | null) => (code = exitCode ?? -1));
        channel.on("close", settle);
      }),
    );
  }

  /** Writes a file by SFTP, created with `mode`; callers that need atomicity write a temporary name and rename. */
  async putFile(path: string, content: string | Buffer, mode: number): Promise<void> {
    const sftp = await this.sftp();
    await this.guard<void>((resolve, reject) =>
      sftp.writeFile(path, content, { mode }, (error) => (error ? reject(this.failure ?? error) : resolve())),
    );
  }

  /** Copies a file of the controller to the host by SFTP, streamed, created with `mode`. */
  async upload(local: string, remote: string, mode: number): Promise<void> {
    const sftp = await this.sftp();
    await this.guard<void>((resolve, reject) =>
      sftp.fastPut(local, remote, { mode }, (error) => (error ? reject(this.failure ?? error) : resolve())),
    );
  }

  /** Copies a file of the host to the controller by SFTP, streamed (a backup may be large). */
  async download(remote: string, local: string): Promise<void> {
    const sftp = await this.sftp();
    await this.guard<void>((resolve, reject) =>
      sftp.fastGet(remote, local, (error) => (error ? reject(this.failure ?? error) : resolve())),
    );
  }

  /** Makes a directory by SFTP, as the login user, with `mode`. */
  async makeDirectory(path: string, mode: number): Promise<void> {
    const sftp = await this.sftp();
    await this.guard<void>((resolve, reject) =>
      sftp.mkdir(path, { mode }, (error) => (error ? reject(this.failure ?? error) : resolve())),
    );
  }

  /**
   * Runs a command whose stdout is streamed into a local file, created 0600 (a large file read by
   * the become user, such as a backup); resolves once the command has ended and the file is written.
   */
  execToFile(command: string, local: string, input?: string): Promise<{ code: number; stderr: string }> {
    return this.channels.run(() =>
      this.guard((resolve, reject) =>
        this.client.exec(command, (error, channel) => {
          if (error) return reject(error);
          const stderr: Buffer[] = [];
          let code = -1;
          channel.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
          channel.on("exit", (exitCode: number | null) => (code = exitCode ?? -1));
          const closed = new Promise((done) => channel.on("close", done));
          Promise.all([pipeline(channel, createWriteStream(local, { mode: 0o600 })), closed]).then(
            () => resolve({ code, stderr: Buffer.concat(stderr).toString() }),
            reject,
          );
          channel.end(input);
        }),
      ),
    );
  }

  /**
   * Ends the connection, resolved once its socket is closed (a fork's next host is connected only
   * then), or dropped after CLOSE_WAIT_MS when the peer has gone silent.
   */
  async close(): Promise<void> {
    this.client.end();
    let timer: NodeJS.Timeout | undefined;
    const silent = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), CLOSE_WAIT_MS)));
    if (await Promise.race([this.closed.then(() => false), silent])) this.client.destroy();
    clearTimeout(timer);
  }

  private sftp(): Promise<SFTPWrapper> {
    this.sftpSession ??= this.guard((resolve, reject) =>
      this.client.sftp((error, sftp) => (error ? reject(this.failure ?? error) : resolve(sftp))),
    );
    return this.sftpSession;
  }

  /** A promise that also rejects, at once, when the connection is lost. */
  private guard<T>(executor: (resolve: (value: T) => void, reject: (error: unknown) => void) => void): Promise<T> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise<T>((resolve, reject) => {
      const onLost = (error: ConnectionError) => reject(error);
      this.pending.add(onLost);
      const settle =
        <A>(fn: (value: A) => void) =>
        (value: A) => {
          this.pending.delete(onLost);
          fn(value);
        };
      executor(settle(resolve), settle(reject));
    });
  }
}
