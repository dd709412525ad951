import { sh } from "../common/shell.js";
import { posix } from "node:path";
import { ABSENT, defineFact, type Fact, type FactFamily } from "./fact.js";

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

const TYPES: Record<string, FileState["type"]> = {
  "regular file": "file",
  "regular empty file": "file",
  directory: "directory",
  "symbolic link": "link",
};

const STAT_FORMAT = "%F|%a|%U|%G|%u|%g";

/** What is at a path: type, mode, owner, group, a checksum for files, and the content if asked. */
export function fileFact(path: string, withContent = false): Fact<FileState> {
  const read = withContent ? sh` && base64 -w0 ${path}` : "";
  // Absent only when the directory above it can be searched: a path behind a closed door is unreadable, not absent.
  const command =
    sh`if ! [ -e ${path} ] && ! [ -L ${path} ]; then [ -d ${posix.dirname(path)} ] && ! [ -x ${posix.dirname(path)} ] && exit 1; exit ${ABSENT}; fi\n` +
    sh`stat -c ${STAT_FORMAT} ${path} && if [ -f ${path} ] && [ ! -L ${path} ]; then sha256sum <${path}`;
  const fact = defineFact(`file${withContent ? "+content" : ""}:${path}`, `${command}${read}; fi`, (stdout, code) => {
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
      sha256: sha256?.split(" ")[0] || undefined,
      content: content !== undefined ? Buffer.from(content, "base64").toString("utf8") : undefined,
    };
  });
  return withContent ? fact : { ...fact, family: { of: FILES, member: path } };
}

/**
 * The files of a batch in one go: the shell tests each path itself, then one `stat` for all that
 * exist and one `sha256sum` for the regular files among them. Records are NUL-separated (no path
 * holds a NUL): `A path` absent, `U path` behind a directory that cannot be searched, `S path meta`
 * from stat, then `H` and the checksums.
 */
const FILES: FactFamily = {
  command: (paths) =>
    [
      "set --",
      ...paths.map((path) => {
        const dir = posix.dirname(path);
        return sh`if [ -e ${path} ] || [ -L ${path} ]; then set -- "$@" ${path}; elif [ -d ${dir} ] && ! [ -x ${dir} ]; then printf 'U\\0%s\\0' ${path}; else printf 'A\\0%s\\0' ${path}; fi`;
      }),
      "[ $# -gt 0 ] || exit 0",
      sh`stat --printf ${`S\\0%n\\0${STAT_FORMAT}\\0`} -- "$@"`,
      // Keeps, of the paths that exist, the regular files (not links to them): what gets a checksum.
      'for f do shift; if [ -f "$f" ] && [ ! -L "$f" ]; then set -- "$@" "$f"; fi; done',
      "printf 'H\\0'",
      '[ $# -eq 0 ] || sha256sum -z -- "$@"',
    ].join("\n"),
  split(stdout, paths) {
    const records = stdout.split("\0");
    const early = new Map<string, number>();
    const meta = new Map<string, string>();
    const sums = new Map<string, string>();
    // Tagged records, walked in order (a path may itself read "H"); after `H`, sha256sum's own
    // records: 64 hex digits, two spaces, the path.
    let i = 0;
    for (; i < records.length && records[i] !== "H"; i++) {
      const tag = records[i];
      if (tag === "A" || tag === "U") early.set(records[++i]!, tag === "A" ? ABSENT : 1);
      else if (tag === "S") meta.set(records[++i]!, records[++i]!);
    }
    for (const sum of records.slice(i + 1)) sums.set(sum.slice(66), sum.slice(0, 64));
    return paths.map((path) => {
      if (early.has(path)) return { stdout: "", exitCode: early.get(path)! };
      const stat = meta.get(path);
      // Not stat'ed, or a regular file without its checksum: what the fact's own command would exit with.
      if (stat === undefined) return { stdout: "", exitCode: 1 };
      if (!stat.startsWith("regular")) return { stdout: `${stat}\n`, exitCode: 0 };
      const sum = sums.get(path);
      return sum === undefined ? { stdout: `${stat}\n`, exitCode: 1 } : { stdout: `${stat}\n${sum}\n`, exitCode: 0 };
    });
  },
};
