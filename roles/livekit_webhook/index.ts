import { readFileSync } from "node:fs";
import { check, defineRole, sh } from "../../src/rigger.js";
import { livekitApiOnHost, livekitDerived, webhookUrl } from "../livekit/derive.js";
import { z } from "zod";
import { webhookVars } from "../livekit/vars.js";
import { containers, placement } from "../matrixrtc/index.js";

const PROBE = readFileSync(new URL("webhook-probe.py", import.meta.url), "utf8");

/**
 * The proof that each LiveKit node's webhook reaches the jwt service: a check only, run once the
 * jwt service is deployed (site.ts puts it after the homeserver play), on the SFU nodes.
 */
export default defineRole({
  name: "livekit_webhook",
  vars: z.object({ ...placement, ...webhookVars }),
  // The same split-deployment defaults as the node's livekit role: the URL it names is the one LiveKit uses.
  derive: livekitDerived,
  tasks: () => [],
  verify: (vars) => [
    check({
      name: "livekit delivers its webhook to the jwt service",
      command: sh`python3 -c ${PROBE} ${`${vars.matrixrtc_config_dir}/livekit/keys.yaml`} ${containers.livekit} ${livekitApiOnHost(vars)}`,
      failure: `LiveKit did not deliver its webhook to ${webhookUrl(vars)}: a client that crashes stays in the call for everyone until its membership expires`,
    }),
  ],
});
