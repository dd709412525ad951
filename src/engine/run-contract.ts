import type { Duplex } from "node:stream";
import type { ExecResult } from "../connection/ssh.js";
import type { Fact } from "../facts/fact.js";
import type { UploadStep, WriteStep } from "../ops/operation.js";
import type { RunEvent } from "./events.js";

/** What a run is asked to do, and how it reaches hosts and reports. */
export interface RunOptions {
  check: boolean;
  diff: boolean;
  forks: number;
  tags?: string[];
  skipTags?: string[];
  /** Skip every task before the first one of this name (Ansible's --start-at-task). */
  startAtTask?: string;
  /** Run the handlers notified so far even when a later task of the host fails (Ansible's --force-handlers). */
  forceHandlers?: boolean;
  /** Opens the host's session (one connection for the whole run). */
  connect(host: string): Promise<Session>;
  emit(event: RunEvent): void;
  /** Whether text holds one of the run's secrets (a file that does is diffed without its old lines). */
  holdsSecret?(text: string): boolean;
}

/** What the runner needs of a host: HostSession over SSH, or a stub in unit tests. */
export interface Session {
  readonly name: string;
  readonly roundTrips: number;
  gather(facts: Fact<unknown>[]): Promise<void>;
  value<T>(fact: Fact<T>): T;
  /** The fact's value if it was gathered and nothing has changed since; else undefined. */
  known<T>(fact: Fact<T>): T | undefined;
  invalidate(): void;
  /** Runs a command; one still running after `timeoutSeconds` (default 600) is killed and fails. */
  run(command: string, timeoutSeconds?: number): Promise<ExecResult>;
  /** Writes a file all or nothing; says where the content it replaced was kept. */
  write(step: WriteStep): Promise<{ backup?: string }>;
  /** Copies a controller file to the host, streamed, all or nothing. */
  upload(step: UploadStep): Promise<void>;
  /** Puts back what a write replaced, or removes what it created. */
  restore(written: { path: string; backup?: string }): Promise<void>;
  /** Runs a write's validator on its content, changing nothing; says why it refused, or undefined. */
  validate(step: WriteStep): Promise<string | undefined>;
  /** A TCP stream to 127.0.0.1:port on the host, through the run's connection. */
  forward(port: number): Promise<Duplex>;
  /** Copies a file of the host to the controller. */
  download(remote: string, local: string): Promise<void>;
  /** Opens, and closes again, a new SSH connection: proof that new connections still get through. */
  confirmNewConnection(): Promise<void>;
  close(): void;
}
