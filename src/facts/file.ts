import { sh } from "../common/shell.js";
import { posix } from "node:path";
import { ABSENT, defineFact, type Fact } from "./fact.js";

export interface FileState {
  exists: boolean;
  type?: "file" | "directory" | "link" | "other";
  mode?: number;
  /** The owner's and group's names (numeric when the host has no name for them: a container's user) and ids. */
  owner?: string;
  group?: string;
  uid?: string;
  gid?: string;
  sha256?: string;
  /** Only when asked for (diffs): the current content, base64-decoded. */
  content?: string;
}

const TYPES: Record<string, FileState["type"]> = { "regular file": "file", "regular empty file": "file", directory: "directory", "symbolic link": "link" };

/** What is at a path: type, mode, owner, group, a checksum for files, and the content if asked. */
export function fileFact(path: string, withContent = false): Fact<FileState> {
  const read = withContent ? sh` && base64 -w0 ${path}` : "";
  // Absent only when the directory above it can be searched: a path behind a closed door is unreadable, not absent.
  const command =
    sh`if ! [ -e ${path} ] && ! [ -L ${path} ]; then [ -d ${posix.dirname(path)} ] && ! [ -x ${posix.dirname(path)} ] && exit 1; exit ${ABSENT}; fi\n` +
    sh`stat -c '%F|%a|%U|%G|%u|%g' ${path} && if [ -f ${path} ] && [ ! -L ${path} ]; then sha256sum ${path} | cut -d' ' -f1`;
  return defineFact(`file${withContent ? "+content" : ""}:${path}`, `${command}${read}; fi`, (stdout, code) => {
    if (code === ABSENT) return { exists: false };
    if (code !== 0) throw new Error(`stat ${path} failed (exit ${code}): no permission, or an I/O error`);
    const [meta = "", sha256, content] = stdout.trim().split("\n");
    const [type = "", mode = "0", ownerName, groupName, uid, gid] = meta.split("|");
    const [owner, group] = [ownerName === "UNKNOWN" ? uid : ownerName, groupName === "UNKNOWN" ? gid : groupName];
    return {
      exists: true,
      type: TYPES[type] ?? "other",
      mode: Number.parseInt(mode, 8),
      owner,
      group,
      uid,
      gid,
      sha256: sha256 || undefined,
      content: content !== undefined ? Buffer.from(content, "base64").toString("utf8") : undefined,
    };
  });
}
