/**
 * One participant that joins a LiveKit room, publishes nothing and stays until it is killed: the
 * client that crashes mid-call. Reads a {url, jwt} grant as JSON on stdin, prints JOINED once in.
 */
import type { Grant } from "../../roles/call_probe/call.js";

// LiveKit's client sets its log level as it loads: debug (to stdout) unless NODE_ENV is production.
process.env.NODE_ENV = "production";
const { Room } = await import("@livekit/rtc-node");
const grant = JSON.parse(
  await new Promise<string>((resolve) => {
    let text = "";
    process.stdin.on("data", (c) => (text += c));
    process.stdin.on("end", () => resolve(text));
  }),
) as Grant;

const room = new Room();
await room.connect(grant.url, grant.jwt, { autoSubscribe: false, dynacast: false });
console.log("JOINED");
setInterval(() => {}, 60_000);
