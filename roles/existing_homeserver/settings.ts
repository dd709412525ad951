import { stringify } from "yaml";
import { jwtServiceUrl } from "../matrixrtc/index.js";
import { wellKnownClient, type SiteVars } from "../sites/index.js";

/** What an existing homeserver must serve for this SFU, as the operator pastes it: the well-known, and Synapse's settings. */
export const wellKnownSetting = (vars: SiteVars) =>
  `https://${vars.matrix_server_name}/.well-known/matrix/client, as application/json with Access-Control-Allow-Origin: *\n${wellKnownClient(vars)}`;

export const synapseSettings = (vars: SiteVars) =>
  stringify({
    experimental_features: { msc4143_enabled: true, msc4222_enabled: true, msc4354_enabled: true },
    matrix_rtc: { transports: [{ type: "livekit", livekit_service_url: jwtServiceUrl(vars) }] },
    max_event_delay_duration: "24h",
    rc_message: { per_second: 0.5, burst_count: 30 },
    rc_delayed_event_mgmt: { per_second: 1, burst_count: 20 },
  });

/** The whole text, as written beside the deployment's config and printed by a failing check. */
export const homeserverSettings = (vars: SiteVars) =>
  [
    `# What the homeserver of ${vars.matrix_server_name} must serve for the SFU at ${jwtServiceUrl(vars)} (role existing_homeserver).`,
    "",
    "# 1. The well-known (Element Web and older Element Call find the SFU here):",
    ...wellKnownSetting(vars)
      .split("\n")
      .map((line) => `#    ${line}`),
    "",
    "# 2. Synapse's homeserver.yaml (Element Call 0.24 finds the SFU through MSC4143's transports):",
    synapseSettings(vars).trimEnd(),
    "",
    "# 3. Its federation API (or the openid listener) reachable from the jwt service's host:",
    "#    the jwt service checks every user's OpenID token there.",
    "",
  ].join("\n");
