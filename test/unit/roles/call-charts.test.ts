import { expect, it } from "vitest";
import { callCharts } from "../../../roles/call_probe/browser-call.js";
import type { CallResult } from "../../../roles/call_probe/call-page.js";

const side = (path: string, timeline: CallResult["timeline"]) => ({ path, timeline }) as CallResult;

it("charts a browser call per participant: audio packets a second between samples, audio level, round trip in ms", () => {
  const charts = callCharts(
    ["rigger-probe-1", "rigger-probe-2"],
    [
      side("relay udp", [
        { ms: 500, packetsReceived: 25, packetsLost: 0, audioLevel: 0.2, roundTripTime: 0.002 },
        { ms: 1000, packetsReceived: 50, packetsLost: 0, audioLevel: 0.3, roundTripTime: 0.004 },
        { ms: 2000, packetsReceived: 100, packetsLost: 1, audioLevel: 0.25, roundTripTime: 0.003 },
      ]),
      side("host tcp", [{ ms: 500, packetsReceived: 20, packetsLost: 0, audioLevel: 0.1, roundTripTime: 0.001 }]),
    ],
  );
  expect(charts.map((c) => `${c.title} (${c.unit})`)).toEqual([
    "audio packets received (packets/s)",
    "audio level (0 to 1)",
    "round trip (ms)",
  ]);
  const [packets, level, roundTrip] = charts;
  expect(packets!.lines.map((l) => l.label)).toEqual(["rigger-probe-1 (relay udp)", "rigger-probe-2 (host tcp)"]);
  // Counted since joining: a rate between samples, none before the second.
  expect(packets!.lines[0]!.points).toEqual([
    [1000, 50],
    [2000, 50],
  ]);
  expect(packets!.lines[1]!.points).toEqual([]);
  expect(level!.lines[0]!.points.map(([, v]) => v)).toEqual([0.2, 0.3, 0.25]);
  expect(roundTrip!.lines[0]!.points.map(([, v]) => v)).toEqual([2, 4, 3]);
});
