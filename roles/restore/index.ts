import { basename } from "node:path";
import { command, defineRole, directory, sh, upload } from "../../src/rigger.js";
import { generatedSecrets } from "../matrixrtc/index.js";
import { restoreScript } from "./script.js";
import { restoreVars } from "./vars.js";

/**
 * A backup put back on a new homeserver host, before playbooks/restore.ts deploys the stack there:
 * the archive uploaded, its config and media in place, its database dump waiting for the postgres
 * role. Done once per archive (a marker beside it); refused over a homeserver that holds data.
 */
export default defineRole({
  name: "restore",
  vars: restoreVars,
  // From the store: a generated one (no store) cannot match the backup's, and the run says so.
  secrets: generatedSecrets.signingKey,
  tasks: (vars) => {
    const archive = `${vars.backup_dir}/${basename(vars.restore_archive)}`;
    return [
      directory({ path: vars.backup_dir, mode: 0o700 }),
      upload({ path: archive, source: vars.restore_archive, mode: 0o600 }),
      command({
        name: `the backup put in place (${basename(archive)})`,
        run: `${restoreScript(vars, archive)}\n${sh`touch ${`${archive}.restored`}`}`,
        creates: `${archive}.restored`,
      }),
    ];
  },
});
