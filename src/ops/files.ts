import { closeSync, openSync, readFileSync, readSync, statSync } from "node:fs";
import { createHash } from "node:crypto";
import { fileFact, type FileState } from "../facts/file.js";
import { sha256Hex } from "../common/hash.js";
import { octalMode } from "../common/mode.js";
import { sh } from "../common/shell.js";
import { operation, taskOptions, type Operation, type Step, type TaskOptions } from "./operation.js";

export interface Ownership {
  mode?: number;
  owner?: string;
  group?: string;
}

export interface FileArgs extends Ownership, TaskOptions {
  path: string;
  /** The content; or `source`, a file on the controller; templates render to `content`. */
  content?: string;
  source?: string | URL;
  /** Run on the new content before it goes live; %s is its (temporary) path. */
  validate?: string;
}

/** The steps that bring mode, owner and group of an existing path to what is wanted. */
function ownershipSteps(path: string, state: FileState, wanted: Required<Ownership>): Step[] {
  const steps: Step[] = [];
  if (state.mode !== wanted.mode) steps.push({ kind: "run", command: sh`chmod ${octalMode(wanted.mode)} ${path}` });
  // A numeric owner (a container's user) is compared with the id, a name with the name.
  const same = (wanted: string, name?: string, id?: string) => wanted === (/^\d+$/.test(wanted) ? id : name);
  if (!same(wanted.owner, state.owner, state.uid) || !same(wanted.group, state.group, state.gid))
    steps.push({ kind: "run", command: sh`chown ${`${wanted.owner}:${wanted.group}`} ${path}` });
  return steps;
}

/** Controller files by path, read once for all hosts (again only once changed): a fleet does not read one file a hundred times. */
const sources = new Map<string, { stamp: string; content: Buffer }>();

function readSource(source: string | URL): Buffer {
  const key = String(source);
  const { mtimeMs, size } = statSync(source);
  const stamp = `${mtimeMs} ${size}`;
  const known = sources.get(key);
  if (known?.stamp === stamp) return known.content;
  const content = readFileSync(source);
  sources.set(key, { stamp, content });
  return content;
}

/**
 * A regular file with this content, mode and owner.
 * @example file({ path: "/etc/matrixrtc/livekit/keys.yaml", content: "APIkey: secret\n", mode: 0o600, notify: "restart livekit" })
 */
export function file(args: FileArgs): Operation {
  const content = args.content ?? (args.source !== undefined ? readSource(args.source) : undefined);
  if (content === undefined) throw new Error(`file ${args.path}: give content, source or a template`);
  const wanted = { mode: args.mode ?? 0o644, owner: args.owner ?? "root", group: args.group ?? "root" };
  const sha256 = sha256Hex(content);
  return operation({
    name: args.name ?? `file ${args.path}`,
    facts: { current: fileFact(args.path) },
    plan: ({ current }) => {
      if (current.exists && current.type !== "file")
        throw new Error(`${args.path} exists and is not a regular file (${current.type})`);
      if (!current.exists || current.sha256 !== sha256)
        return [
          { kind: "write", path: args.path, content, ...wanted, ...(args.validate ? { validate: args.validate } : {}) },
        ];
      return ownershipSteps(args.path, current, wanted);
    },
    ...taskOptions(args),
  });
}

/** A controller file's sha256 and size, read in chunks: never the whole of it in memory. */
function fingerprint(path: string): { sha256: string; size: number } {
  const hash = createHash("sha256");
  const chunk = Buffer.alloc(1 << 20);
  const fd = openSync(path, "r");
  try {
    for (let read; (read = readSync(fd, chunk, 0, chunk.length, null)) > 0;) hash.update(chunk.subarray(0, read));
  } finally {
    closeSync(fd);
  }
  return { sha256: hash.digest("hex"), size: statSync(path).size };
}

export interface UploadArgs extends Ownership, TaskOptions {
  path: string;
  /** A file on the controller, too large to hold as content (an archive): streamed by SFTP. */
  source: string;
}

/**
 * A regular file with a large controller file's content, mode and owner: uploaded, streamed, only when it differs.
 * @example upload({ path: "/usr/local/bin/tool", source: "build/tool", mode: 0o755 })
 */
export function upload(args: UploadArgs): Operation {
  const wanted = { mode: args.mode ?? 0o644, owner: args.owner ?? "root", group: args.group ?? "root" };
  const { sha256, size } = fingerprint(args.source);
  return operation({
    name: args.name ?? `upload ${args.path}`,
    facts: { current: fileFact(args.path) },
    plan: ({ current }) => {
      if (current.exists && current.type !== "file")
        throw new Error(`${args.path} exists and is not a regular file (${current.type})`);
      if (!current.exists || current.sha256 !== sha256)
        return [{ kind: "upload", source: args.source, path: args.path, sha256, size, ...wanted }];
      return ownershipSteps(args.path, current, wanted);
    },
    ...taskOptions(args),
  });
}

export interface DirectoryArgs extends Ownership, TaskOptions {
  path: string;
}

/**
 * A directory with this mode and owner, made when missing.
 * @example directory({ path: "/etc/matrixrtc/synapse", mode: 0o750, group: "991" })
 */
export function directory(args: DirectoryArgs): Operation {
  const wanted = { mode: args.mode ?? 0o755, owner: args.owner ?? "root", group: args.group ?? "root" };
  return operation({
    name: args.name ?? `directory ${args.path}`,
    facts: { current: fileFact(args.path) },
    plan: ({ current }) => {
      if (current.exists && current.type !== "directory")
        throw new Error(`${args.path} exists and is not a directory (${current.type})`);
      if (!current.exists)
        return [
          {
            kind: "run",
            command: sh`install -d -m ${octalMode(wanted.mode)} -o ${wanted.owner} -g ${wanted.group} ${args.path}`,
          },
        ];
      return ownershipSteps(args.path, current, wanted);
    },
    ...taskOptions(args),
  });
}

/**
 * Nothing at this path: a file or directory removed when there is one.
 * @example absent({ path: "/etc/matrixrtc/element-call" })
 */
export function absent(args: { path: string } & TaskOptions): Operation {
  return operation({
    name: args.name ?? `absent ${args.path}`,
    facts: { current: fileFact(args.path) },
    plan: ({ current }) => (current.exists ? [{ kind: "run", command: sh`rm -rf -- ${args.path}` }] : []),
    ...taskOptions(args),
  });
}
