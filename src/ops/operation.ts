import type { Duplex } from "node:stream";
import type { Fact, FactFamily, FactValues } from "../facts/fact.js";

/** Run a command on the host; a non-zero exit fails the task. */
export interface RunStep {
  kind: "run";
  command: string;
  /** For a step that may take long (a drain): said before it starts, and its output said after. */
  announce?: string;
  /** This step's own time limit, over its operation's. */
  timeoutSeconds?: number;
}

/**
 * Put content at a path atomically: a temporary file in the same directory gets mode and owner,
 * passes `validate` (a command with %s for the temporary path), then is renamed over the old one.
 */
export interface WriteStep {
  kind: "write";
  path: string;
  /** Text, or bytes exactly as they are (a `source` file: a binary is copied byte for byte). */
  content: string | Buffer;
  mode: number;
  owner: string;
  group: string;
  validate?: string;
  /** A command run once the file is in place, in the same exec (the runner's bookkeeping). */
  then?: string;
}

/** Put a file of the controller at a path, streamed (too large to hold as content), all or nothing as a write. */
export interface UploadStep {
  kind: "upload";
  /** The file on the controller. */
  source: string;
  path: string;
  sha256: string;
  size: number;
  mode: number;
  owner: string;
  group: string;
}

/** A read-only check (a wait for a port or URL): not a change, and not run in check mode. */
export interface ProbeStep {
  kind: "probe";
  command: string;
  /** The same probe tried once, without waiting (for a probe that waits): what is read ahead. */
  once?: string;
  /** That once form, when one command can try many of its kind at once (one Python for every URL). */
  family?: { of: FactFamily; member: string };
  /** Said when the probe fails. */
  failure: string;
}

/**
 * A change that can cut the controller off (a firewall): `arm` sets the host to undo it by itself
 * after `rollbackSeconds`, `apply` makes it, and only when a fresh SSH connection succeeds does
 * `cancel` disarm the undo. If none can be made, the host restores the old state on its own.
 */
export interface GuardedStep {
  kind: "guarded";
  arm: string;
  apply: string;
  cancel: string;
  rollbackSeconds: number;
  /** What is being applied, for messages. */
  what: string;
}

/** What a probe made on the controller may use of the host it checks. */
export interface HostAccess {
  readonly name: string;
  /** A TCP stream to 127.0.0.1:port on the host, through the run's SSH connection (for loopback-only APIs). */
  forward(port: number): Promise<Duplex>;
  /** Runs a read-only command on the host (a file the check needs, such as a CA certificate). */
  run(command: string): Promise<{ code: number; stdout: string; stderr: string }>;
  /** Copies a file of the host to a path on the controller. */
  download(remote: string, local: string): Promise<void>;
}

/** Numbers over time, drawn in the evidence report: a line per participant of a call, say. */
export interface Chart {
  title: string;
  unit: string;
  lines: Array<{ label: string; points: Array<[ms: number, value: number]> }>;
}

/** What a check saw: its evidence, and charts of how it went. */
export interface Observation {
  evidence: string;
  charts: Chart[];
}

/**
 * A read-only check made on the controller, as a client of the deployment would make it (a call
 * through the public names); it returns its evidence (with charts) or throws why it failed.
 */
export interface LocalProbeStep {
  kind: "local";
  run(host: HostAccess): Promise<string | Observation>;
  failure: string;
}

export type Step = RunStep | WriteStep | UploadStep | ProbeStep | GuardedStep | LocalProbeStep;

export interface Operation<F extends Record<string, Fact<unknown>> = Record<string, Fact<unknown>>> {
  /** What the task does, shown in the output. */
  name: string;
  /** The facts the plan needs, declared from the operation's arguments alone. */
  facts: F;
  /** Pure: from the facts to the steps that make the host match. No steps: nothing to do. */
  plan(facts: FactValues<F>): Step[];
  /** Things the operator should know that are not failures (a port published past the firewall). */
  warnings?(facts: FactValues<F>): string[];
  /** Handlers to run (once, at the end of the role) when this operation changed something. */
  notify?: string[];
  tags?: string[];
  /** How long each of its commands may run before it is killed and the task fails (default 600 s). */
  timeoutSeconds?: number;
  /**
   * When it changed something: `undo` puts the host back as it was (run when its role fails in a
   * play with rollback), `commit` lets go of what undo would need (run once its role succeeded).
   */
  undo?: string;
  commit?: string;
  /** A check that measures: the last line of what it prints is a number, written as this metric by --metrics. */
  measure?: Measure;
}

/** A gauge a check's evidence yields, for monitoring from cron (`rigger_<metric>{host}`). */
export interface Measure {
  metric: string;
  help: string;
}

/** Lets an operation's `plan` see its own facts' types while it is stored among others. */
export function operation<F extends Record<string, Fact<unknown>>>(op: Operation<F>): Operation {
  return op as unknown as Operation;
}

/** Options every operation accepts. */
export interface TaskOptions {
  name?: string;
  notify?: string | string[];
  tags?: string[];
  /** The time limit of each of the task's commands, in seconds. */
  commandTimeoutSeconds?: number;
}

export function taskOptions(options: TaskOptions): Pick<Operation, "notify" | "tags" | "timeoutSeconds"> {
  const notify = options.notify === undefined ? undefined : ([] as string[]).concat(options.notify);
  return {
    ...(notify ? { notify } : {}),
    ...(options.tags ? { tags: options.tags } : {}),
    ...(options.commandTimeoutSeconds ? { timeoutSeconds: options.commandTimeoutSeconds } : {}),
  };
}

export const isChange = (step: Step) => step.kind !== "probe" && step.kind !== "local";

/**
 * Thrown by a plan whose precondition an earlier change of the same run brings about (the unit of
 * a package not installed yet). In check mode, after an earlier would-change, it is drift to report;
 * every other error fails the host, in check mode too.
 */
export class NotYetPlannable extends Error {
  constructor(message: string) {
    super(message);
    this.name = "NotYetPlannable";
  }
}

/** The marker task where the handlers notified so far run, instead of at the end of the role. */
export const FLUSH_HANDLERS: Operation = { name: "flush handlers", facts: {}, plan: () => [] };

export function flushHandlers(): Operation {
  return FLUSH_HANDLERS;
}
