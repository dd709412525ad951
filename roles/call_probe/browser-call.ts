/**
 * The call probe in browsers: the probe's two users, each in a page of Chromium on Element Call's
 * origin, call each other as Element Call does (./call-page.ts) for `seconds`; the evidence is what
 * each browser measured and the way its media came, the charts how the call went.
 */
import type { Chart, Observation } from "../../src/rigger.js";
import { browserParticipant, launchBrowser, type CallResult } from "./browser.js";
import type { CallPath } from "./call-page.js";

export interface BrowserCall {
  chromium: string;
  /** The root to trust besides the public ones (Caddy's own CA). */
  caPem?: string;
  /** Where the pages are opened: Element Call's name. */
  origin: string;
  serverName: string;
  users: string[];
  password: string;
  room: string;
  seconds: number;
  path: CallPath;
}

/** Why a participant's side of the call does not prove what was asked, or nothing when it does. */
function shortfall(user: string, side: CallResult, path: CallPath): string | undefined {
  if (!side.audio.packetsReceived || !side.audio.totalAudioEnergy) return `${user} heard nothing`;
  if (!side.video.framesDecoded) return `${user} saw no video`;
  if (path === "relay" && !side.path.startsWith("relay "))
    return `${user}'s media came ${side.path}, not through coturn`;
  if (path === "relay-tls" && side.path !== "relay tls")
    return `${user}'s media came ${side.path}, not through coturn over TLS`;
  return undefined;
}

const ms = (seconds: number) => `${Math.round(seconds * 1000)} ms`;

const sideLine = (user: string, side: CallResult) =>
  `${user}: ${side.audio.packetsReceived} audio packets (${side.audio.packetsLost} lost), ` +
  `${side.video.framesDecoded} video frames ${side.video.frameWidth} wide, ${side.path} to LiveKit at ${side.remote.address}, ` +
  `round trip ${ms(side.roundTripTime)}, jitter ${ms(side.audio.jitter)}`;

/** The call over time, a line per participant named with the way its media came. */
export function callCharts(users: string[], sides: CallResult[]): Chart[] {
  type Samples = CallResult["timeline"];
  const line = (points: (timeline: Samples) => Array<[number, number]>) =>
    sides.map((side, n) => ({ label: `${users[n]} (${side.path})`, points: points(side.timeline) }));
  const each = (pick: (sample: Samples[number]) => number) => (timeline: Samples) =>
    timeline.map((sample): [number, number] => [sample.ms, pick(sample)]);
  // Counted since the participant joined: a rate from one sample to the next.
  const packetsPerSecond = (timeline: Samples) =>
    timeline
      .slice(1)
      .map((sample, i): [number, number] => [
        sample.ms,
        ((sample.packetsReceived - timeline[i]!.packetsReceived) * 1000) / (sample.ms - timeline[i]!.ms),
      ]);
  return [
    { title: "audio packets received", unit: "packets/s", lines: line(packetsPerSecond) },
    { title: "audio level", unit: "0 to 1", lines: line(each((sample) => sample.audioLevel)) },
    { title: "round trip", unit: "ms", lines: line(each((sample) => sample.roundTripTime * 1000)) },
  ];
}

export async function browserCall(call: BrowserCall): Promise<Observation> {
  const browser = await launchBrowser({ executable: call.chromium, ...(call.caPem ? { caPem: call.caPem } : {}) });
  try {
    const sides = await Promise.all(
      call.users.map((user) =>
        browserParticipant(browser, call.origin, {
          serverName: call.serverName,
          user,
          password: call.password,
          room: call.room,
          participants: call.users.length,
          seconds: call.seconds,
          path: call.path,
        }),
      ),
    );
    const wrong = sides.map((side, i) => shortfall(call.users[i]!, side, call.path)).filter(Boolean);
    if (wrong.length)
      throw new Error(`${wrong.join("; ")} (${sides.map((side, i) => sideLine(call.users[i]!, side)).join("; ")})`);
    return {
      evidence: [
        `${sides.length} browsers (Chromium) on https://${call.origin} held ${call.room} for ${call.seconds} s, ` +
          `media ${call.path === "any" ? "as they chose" : `forced ${call.path}`}; ICE servers LiveKit handed out: ${sides[0]!.iceServers.join(", ") || "none"}`,
        ...sides.map((side, i) => sideLine(call.users[i]!, side)),
      ].join("\n"),
      charts: callCharts(call.users, sides),
    };
  } finally {
    await browser.close();
  }
}
