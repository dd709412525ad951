/** The host lock: two runs never change a host at once. */
import { sh } from "../common/shell.js";

export class HostLockedError extends Error {
  constructor(host: string, holder: string) {
    super(
      `${host} is being changed by another run (${holder}); try again when it has finished, or, if that run is gone (its machine or link died), run with --break-lock ${host}`,
    );
    this.name = "HostLockedError";
  }
}

const LOCK_DIR = "/run/rigger";

/**
 * The host lock: flock on a file in a root-owned directory, /run/rigger (atomic: of two runs started
 * together exactly one gets it), taken as the become user (a login user without become, who could
 * not write there, locks in a directory of its own) and held by a command that lives as long as this
 * run's SSH connection, so a run that exits frees it at once. A run whose controller vanished
 * without closing TCP keeps it until sshd notices; `breakStale` ends that holder (the process that
 * holds the lock file open, named in the holder file) and takes the lock. Prints "acquired" (after
 * "broke: HOLDER" when it broke one), or "busy" and the holder; anything else is an error.
 */
export const lockScript = (holder: string, breakStale: boolean) => sh`
set -e
dir=${LOCK_DIR}
if ! install -d -m 755 "$dir" 2>/dev/null || ! [ -w "$dir" ]; then dir="\${XDG_RUNTIME_DIR:-$HOME}/.rigger"; install -d -m 700 "$dir"; fi
exec 9>> "$dir/lock"
if ! flock -n 9; then
  stale=$(cat "$dir/holder" 2>/dev/null || true)
  if [ ${breakStale ? 1 : 0} = 0 ]; then echo busy; printf '%s\\n' "$stale"; exit 0; fi
  pid=\${stale##*, host pid }
  case $pid in "" | *[!0-9]*) pid= ;; esac
  if [ -n "$pid" ] && [ "$(readlink /proc/"$pid"/fd/9 2>/dev/null)" = "$dir/lock" ]; then kill "$pid"; fi
  if ! flock -w 10 9; then echo busy; printf '%s\\n' "$stale"; exit 0; fi
  printf 'broke: %s\\n' "$stale"
fi
printf '%s, host pid %s\\n' ${holder} "$$" > "$dir/holder"
echo acquired
exec cat >/dev/null`;
