/**
 * The shell scripts of a host session's file changes: a write, an upload and a validator's trial run,
 * each all or nothing (a temporary beside the target, checked whole, renamed over it).
 */
import { posix } from "node:path";
import type { UploadStep, WriteStep } from "../ops/operation.js";
import { octalMode } from "../common/mode.js";
import { sha256Hex } from "../common/hash.js";
import { raw, sh } from "../common/shell.js";

const BACKUP_DIR = "/var/backups/rigger";
const BACKUPS_KEPT = 5;
/** Names of the temporaries a write or upload of $target makes: $tmp beside it, $staged in /tmp (or $tmp itself). */
export const temporaryNames = (path: string, suffix: string) => {
  const base = posix.basename(path);
  return {
    beside: posix.join(posix.dirname(path), `.rigger-${suffix}-${base}`),
    staged: `/tmp/.rigger-${suffix}-${base}`,
  };
};
/** Where a become user's upload arrives, in a private folder of the login user's, before it is moved into place. */
export const UPLOAD_STAGING = "/var/tmp/.rigger-upload-";
/** Runs hold the host lock, so another temporary of this target is a dead run's leftover. */
const REMOVE_LEFTOVERS =
  'for f in "${target%/*}"/.rigger-*-"${target##*/}" /tmp/.rigger-*-"${target##*/}"; do [ "$f" = "$tmp" ] || [ "$f" = "$staged" ] || rm -f -- "$f"; done';
/** The check that what arrived in $tmp is whole: a link cut mid-transfer leaves a prefix, which must never go live. */
const wholeCheck = (sha256: string, size: number) =>
  sh`if [ "$(sha256sum < "$tmp" | cut -c1-64)" != ${sha256} ]; then printf 'the content arrived incomplete (%s of %s bytes): the old file stays\n' "$(wc -c < "$tmp")" ${size} >&2; exit 5; fi`;

/** A validator run on a new content in a private temporary ($tmp), changing nothing else; it says why it refuses. */
export const validateScript = (validate: string, staged: string | undefined) =>
  [
    "set -e",
    staged ? sh`tmp=${staged}` : "tmp=$(mktemp)",
    "trap 'rm -f -- \"$tmp\"' EXIT",
    staged ? "" : 'cat > "$tmp"',
    `if ! out=$(${validate.split("%s").join('"$tmp"')} 2>&1); then printf 'validation failed: %s\\n' "$out" >&2; exit 3; fi`,
  ]
    .filter(Boolean)
    .join("\n");

/** A write's script: the content (on stdin, or staged by the login user) checked whole, owned, validated, the old one backed up, renamed into place, then `then`. */
export function writeScript(step: WriteStep, temporary: string, staged: string | undefined): string {
  const size = Buffer.byteLength(step.content);
  return [
    "set -e",
    // Every path is a variable from here on: a quoted path never sits inside other quotes.
    sh`target=${step.path} tmp=${temporary} staged=${staged ?? ""} backup=${`${BACKUP_DIR}/${step.path.replace(/^\//, "").replace(/\//g, "__")}`} kept=`,
    'trap \'rm -f -- "$tmp" ${staged:+"$staged"}\' EXIT',
    REMOVE_LEFTOVERS,
    staged ? 'mv -f -- "$staged" "$tmp"' : '(umask 077 && cat > "$tmp")',
    wholeCheck(sha256Hex(step.content), size),
    sh`chown -- ${`${step.owner}:${step.group}`} "$tmp"`,
    sh`chmod -- ${octalMode(step.mode)} "$tmp"`,
    step.validate
      ? `if ! out=$(${step.validate.split("%s").join('"$tmp"')} 2>&1); then echo "validation failed: $out" >&2; exit 3; fi`
      : "",
    // Backups are named by time, so the glob's order is theirs: all but the newest few go.
    sh`if [ -f "$target" ]; then install -d -m 700 ${BACKUP_DIR}; kept="$backup.$(date +%Y%m%dT%H%M%S%N)"; cp -p -- "$target" "$kept";`,
    sh`  set -- "$backup".${raw("[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T*")}; while [ $# -gt ${BACKUPS_KEPT} ]; do rm -f -- "$1"; shift; done; fi`,
    'mv -f -- "$tmp" "$target"',
    // Said as soon as it is true, so that a failing `then` is undone too; a link cut while it is
    // printed must not stop what follows (the bookkeeping of owed handlers).
    "trap '' PIPE",
    'echo "installed${kept:+, backup: $kept}" || true',
    step.then ?? "",
  ]
    .filter(Boolean)
    .join("\n");
}

/** An upload's script: what SFTP sent moved beside the target, checked whole against its sha256, owned, renamed into place. */
export function uploadScript(step: UploadStep, temporary: string, sent: string, folder: string): string {
  return [
    "set -e",
    sh`target=${step.path} tmp=${temporary} staged=${sent} folder=${folder}`,
    'trap \'rm -f -- "$tmp" "$staged"; [ -z "$folder" ] || rm -rf -- "$folder"\' EXIT',
    REMOVE_LEFTOVERS,
    sh`for d in ${raw(`${UPLOAD_STAGING}*`)}; do [ ! -d "$d" ] || [ "$d" = "$folder" ] || rm -rf -- "$d"; done`,
    '[ "$staged" = "$tmp" ] || mv -f -- "$staged" "$tmp"',
    wholeCheck(step.sha256, step.size),
    sh`chown -- ${`${step.owner}:${step.group}`} "$tmp"`,
    sh`chmod -- ${octalMode(step.mode)} "$tmp"`,
    'mv -f -- "$tmp" "$target"',
  ].join("\n");
}
