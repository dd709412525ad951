/**
 * Handlers notified on a host but not run yet, because the host failed first: each is kept on the
 * host as a file until it has run, so the next run runs it even though the change that notified it
 * is already made (a config written but its service not restarted is not left that way).
 */
import { defineFact } from "../facts/fact.js";
import { sh } from "../common/shell.js";

const DIR = "/var/lib/rigger/pending-handlers";

export const pendingHandlersFact = defineFact("pending-handlers", sh`ls -1 ${DIR} 2>/dev/null || true`, (stdout) =>
  stdout.split("\n").filter(Boolean).map(decodeURIComponent),
);

export const rememberHandlers = (names: string[]) =>
  `${sh`mkdir -p ${DIR}`} && cd ${DIR} && ${sh`touch ${names.map(encodeURIComponent)}`}`;

export const forgetHandler = (name: string) => sh`rm -f ${`${DIR}/${encodeURIComponent(name)}`}`;
