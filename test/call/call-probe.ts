/**
 * The call probe of roles/call_probe as a program of its own, for the test suite: it runs in a
 * mount namespace whose /etc/hosts holds the testbed's names. Reads {publisher, subscriber,
 * frames, timeoutMs, holdMs} as JSON on stdin (each a {url, jwt} grant); prints the outcome as
 * JSON on a line of its own that starts with OUTCOME.
 */
import { dispose } from "@livekit/rtc-node";
import { twoPartyCall, type CallOptions, type Grant } from "../../roles/call_probe/call.js";
import { OUTCOME } from "./outcome.js";

const request = JSON.parse(
  await new Promise<string>((resolve) => {
    let text = "";
    process.stdin.on("data", (c) => (text += c));
    process.stdin.on("end", () => resolve(text));
  }),
) as { publisher: Grant; subscriber: Grant } & CallOptions;

console.log(`${OUTCOME} ${JSON.stringify(await twoPartyCall(request.publisher, request.subscriber, request))}`);
await dispose();
process.exit(0);
