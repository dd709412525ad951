import { expect, it } from "vitest";
import type { RunEvent } from "../../../src/engine/events.js";
import type { PreparedPlay } from "../../../src/engine/prepare.js";
import { batches, budgetSpent, serialProblem } from "../../../src/engine/rollout.js";
import type { Session } from "../../../src/engine/run-contract.js";
import { runPlays } from "../../../src/engine/runner.js";
import { operation } from "../../../src/ops/operation.js";

it("cuts hosts into batches: a number, a percentage of all, a ramp whose last size repeats", () => {
  const hosts = ["a", "b", "c", "d", "e"];
  expect(batches(hosts, undefined)).toEqual([hosts]);
  expect(batches(hosts, 2)).toEqual([["a", "b"], ["c", "d"], ["e"]]);
  expect(batches(hosts, "40%")).toEqual([["a", "b"], ["c", "d"], ["e"]]);
  expect(batches(hosts, "10%")).toEqual([["a"], ["b"], ["c"], ["d"], ["e"]]);
  expect(batches(hosts, [1, "50%", "100%"])).toEqual([["a"], ["b", "c"], ["d", "e"]]);
  expect(batches(["x", "y"], [1, "50%"])).toEqual([["x"], ["y"]]);
});

it("refuses a serial that is not one, and spends the budget only past its percentage", () => {
  expect(serialProblem([1, "50%"])).toBeUndefined();
  expect(serialProblem(0)).toMatch(/0 is not a batch size/);
  expect(serialProblem("half")).toMatch(/"half" is not a batch size/);
  expect(serialProblem([])).toMatch(/expected a batch size/);
  expect(budgetSpent(1, 4, 0)).toBe(true);
  expect(budgetSpent(1, 4, 25)).toBe(false);
  expect(budgetSpent(2, 4, 25)).toBe(true);
  expect(budgetSpent(0, 4)).toBe(false);
});

/** Hosts whose one task fails where `failing` says, recorded as they are worked on. */
async function rollout(hosts: string[], failing: string[], serial: PreparedPlay["serial"], maxFailPercentage?: number) {
  const touched: string[] = [];
  const task = operation({ name: "deploy", facts: {}, plan: () => [{ kind: "run", command: "deploy" }] });
  const session = (name: string): Session => ({
    name,
    roundTrips: 0,
    gather: async () => {},
    value: () => undefined as never,
    known: () => undefined,
    invalidate() {},
    write: async () => ({}),
    restore: async () => {},
    validate: async () => undefined,
    confirmNewConnection: async () => {},
    close() {},
    forward: () => Promise.reject(new Error("no tunnels here")),
    download: () => Promise.reject(new Error("no files here")),
    upload: async () => {},
    run: async () => (
      touched.push(name),
      failing.includes(name) ? { code: 1, stdout: "", stderr: "broken" } : { code: 0, stdout: "", stderr: "" }
    ),
  });
  const play: PreparedPlay = {
    name: "sfu",
    serial,
    maxFailPercentage,
    hosts: new Map(hosts.map((h) => [h, [{ name: "livekit", tasks: [task], handlers: {}, verify: [] }]])),
  };
  const events: RunEvent[] = [];
  await runPlays([play], {
    check: false,
    diff: false,
    forks: 10,
    connect: async (h) => session(h),
    emit: (e) => events.push(e),
  });
  const status = Object.fromEntries(events.flatMap((e) => (e.type === "host-end" ? [[e.host, e.status]] : [])));
  return { touched, status, warnings: events.flatMap((e) => (e.type === "warning" ? [e.message] : [])) };
}

it("stops the rollout when a batch spends the budget, leaving the later batches untouched", async () => {
  const stopped = await rollout(["sfu1", "sfu2"], ["sfu1"], [1, "50%"]);
  expect(stopped.touched).toEqual(["sfu1"]);
  expect(stopped.status).toEqual({ sfu1: "failed", sfu2: "untouched" });
  expect(stopped.warnings).toEqual([
    'rollout of play "sfu" stopped after batch 1: 1 of its 1 hosts failed (budget 0%)',
  ]);
});

it("finishes a rollout whose failures stay within the budget", async () => {
  const within = await rollout(["h1", "h2", "h3", "h4"], ["h2"], 4, 25);
  expect(within.status).toEqual({ h1: "ok", h2: "failed", h3: "ok", h4: "ok" });
  expect(within.warnings).toEqual([]);
});
