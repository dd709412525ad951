import { check, sh } from "../../src/rigger.js";
import { TRANSPORTS_PATH } from "../call_probe/discovery.js";

/** What /_matrix/client/versions must advertise: delayed events and sticky events (MSC4143 is listed only from Synapse 1.156: its endpoint is asked instead). */
export const expectedFeatures = ["org.matrix.msc4140", "org.matrix.msc4354"];

const featuresScript = [
  "import json, sys",
  'f = json.load(sys.stdin)["unstable_features"]',
  'print("unstable_features on:", ", ".join(sorted(k for k in f if f[k])))',
  `sys.exit(0 if all(f.get(k) for k in ${JSON.stringify(expectedFeatures)}) else 1)`,
].join("\n");

/**
 * What Element Call needs of a homeserver's client API, asked at `base` (rigger's Synapse on the
 * host, or an existing homeserver through its proxy; `curlOptions` such as --resolve): the MSCs it
 * advertises, and the MSC4143 transports served to signed-in users (401 without a token, 404 when off).
 * `fix`: what to tell the operator when one fails.
 */
export function clientApiChecks(who: string, base: string, curlOptions: string[] = [], fix = "") {
  const curl = (path: string, ...more: string[]) => sh`curl -sS --max-time 10 ${curlOptions} ${more} ${base + path}`;
  return [
    check({
      name: `${who} advertises ${expectedFeatures.join(", ")}`,
      command: `${curl("/_matrix/client/versions")} | ${sh`python3 -c ${featuresScript}`}`,
      failure: `${base}/_matrix/client/versions lacks one of ${expectedFeatures.join(", ")}${fix}`,
    }),
    check({
      name: `${who} serves the MSC4143 transports (to signed-in users)`,
      command: `${curl(TRANSPORTS_PATH, "-w", " %{http_code}")} | grep -E 'M_MISSING_TOKEN.* 401$'`,
      failure: `${base}${TRANSPORTS_PATH} is not served (404): Element Call would find no SFU${fix}`,
    }),
  ];
}
