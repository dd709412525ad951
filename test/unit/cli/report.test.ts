import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { writeEvidenceReport } from "../../../src/cli/report.js";
import type { RunEvent } from "../../../src/engine/events.js";
import { Masker, MASK } from "../../../src/engine/masker.js";

const task = (
  task: string,
  status: "ok" | "failed" | "skipped",
  extra: { evidence?: string; error?: string } = {},
): RunEvent => ({
  type: "task",
  host: "dev2",
  play: "p",
  role: "livekit",
  task,
  handler: false,
  status,
  check: false,
  changes: [],
  diffs: [],
  ms: 12,
  ...extra,
});

it("writes every check with its evidence, pass or fail, as Markdown and JSON, masked and private", () => {
  const dir = join(mkdtempSync(join(tmpdir(), "rigger-report-")), "evidence");
  const masker = new Masker();
  masker.add("the-livekit-secret-0123456789");
  const events = [
    task("template /etc/livekit.yaml", "ok"),
    task("verify: livekit answers OK", "ok", { evidence: "http://127.0.0.1:7880/ answered 200: OK" }),
    task("verify: auto_create is false", "failed", {
      error: "room.auto_create is not false | key the-livekit-secret-0123456789",
    }),
    task("verify: skipped in check mode", "skipped"),
  ];
  const written = writeEvidenceReport(dir, { playbook: "playbooks/verify.ts" }, events, masker);
  const json = JSON.parse(readFileSync(written.json, "utf8"));
  expect(json).toMatchObject({ playbook: "playbooks/verify.ts", passed: 1, failed: 1 });
  expect(json.checks).toEqual([
    {
      host: "dev2",
      role: "livekit",
      check: "livekit answers OK",
      passed: true,
      evidence: "http://127.0.0.1:7880/ answered 200: OK",
      ms: 12,
    },
    {
      host: "dev2",
      role: "livekit",
      check: "auto_create is false",
      passed: false,
      evidence: `room.auto_create is not false | key ${MASK}`,
      ms: 12,
    },
  ]);
  const markdown = readFileSync(written.markdown, "utf8");
  expect(markdown).toContain("| livekit | auto_create is false | **FAIL** | 12 ms |");
  expect(markdown).toContain(
    "### livekit: livekit answers OK (pass)\n\n```\nhttp://127.0.0.1:7880/ answered 200: OK\n```",
  );
  expect(markdown + readFileSync(written.json, "utf8")).not.toContain("the-livekit-secret-0123456789");
  expect(statSync(written.markdown).mode & 0o777).toBe(0o600);
});
