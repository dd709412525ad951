import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { writeEvidenceReport } from "../../../src/cli/report.js";
import type { RunEvent } from "../../../src/engine/events.js";
import { Masker, MASK } from "../../../src/engine/masker.js";
import type { Chart } from "../../../src/ops/operation.js";

const task = (
  task: string,
  status: "ok" | "failed" | "skipped",
  extra: { evidence?: string; error?: string; charts?: Chart[] } = {},
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

it("draws the hosts in report.html (names, services coloured by their checks, ports) above every check, escaped and masked", () => {
  const dir = join(mkdtempSync(join(tmpdir(), "rigger-report-")), "evidence");
  const masker = new Masker();
  masker.add("the-livekit-secret-0123456789");
  const events = [
    task("verify: livekit answers OK", "ok", { evidence: "<b>OK</b> & fine" }),
    task("verify: auto_create is false", "failed", { error: "key the-livekit-secret-0123456789" }),
  ];
  const written = writeEvidenceReport(dir, { playbook: "playbooks/verify.ts" }, events, masker, [
    {
      host: "dev2",
      services: ["caddy", "livekit", "coturn"],
      ports: [
        { protocol: "tcp", port: 443, comment: "caddy: https" },
        { protocol: "udp", port: [49152, 50151], comment: "coturn: relay range" },
        { protocol: "tcp", port: 9180, comment: "caddy: metrics", sources: ["10.0.0.5"] },
      ],
      names: ["matrix.example.org", "turn.example.org"],
    },
  ]);
  const html = readFileSync(written.html, "utf8");
  expect(html).toContain('<span class="verdict fail" id="verdict">1 of 2 checks failed</span>');
  expect(html).toContain('<section class="host" data-host="dev2">');
  expect(html).toContain('<ul class="names"><li>matrix.example.org</li><li>turn.example.org</li></ul>');
  // livekit's checks: one failed; caddy and coturn: none here.
  expect(html).toContain('<span class="service fail" title="1 of 2 checks passed">livekit</span>');
  expect(html).toContain('<span class="service unchecked" title="no checks">caddy</span>');
  expect(html).toContain("<li>49152-50151/udp <span>coturn: relay range</span></li>");
  expect(html).toContain("<li>9180/tcp <span>caddy: metrics</span> (from 10.0.0.5)</li>");
  expect(html).toContain("<pre>&lt;b&gt;OK&lt;/b&gt; &amp; fine</pre>");
  expect(html).not.toContain("the-livekit-secret-0123456789");
  expect(html).not.toMatch(/<script|https?:\/\/[^"<]*\.(css|js)/);
  expect(JSON.parse(readFileSync(written.json, "utf8")).hosts[0].names).toEqual([
    "matrix.example.org",
    "turn.example.org",
  ]);
  expect(statSync(written.html).mode & 0o777).toBe(0o600);
});

it("draws a check's charts in report.html: a line per participant over its seconds, labelled, escaped and masked", () => {
  const dir = join(mkdtempSync(join(tmpdir(), "rigger-report-")), "evidence");
  const masker = new Masker();
  masker.add("the-probe-password-0123456789");
  const charts: Chart[] = [
    {
      title: "round trip",
      unit: "ms",
      lines: [
        {
          label: "rigger-probe-1 (relay udp)",
          points: [
            [500, 2],
            [1000, 4],
            [1500, 3],
          ],
        },
        {
          label: "<i>probe-2</i> the-probe-password-0123456789",
          points: [
            [500, 1],
            [1000, 1],
          ],
        },
      ],
    },
  ];
  const events = [
    task("verify: a call carries media", "ok", { evidence: "2 browsers held the call", charts }),
    task("verify: livekit answers OK", "ok", { evidence: "OK" }),
  ];
  const written = writeEvidenceReport(dir, { playbook: "playbooks/verify.ts" }, events, masker);
  const html = readFileSync(written.html, "utf8");
  expect(html).toContain('<section class="over-time" data-check="a call carries media">');
  expect(html).toContain("<figcaption>round trip (ms)</figcaption>");
  // x from 0 to the last sample (1.5 s) across the plot, y from 0 to the largest value (4).
  const polylines = [...html.matchAll(/<polyline class="series" data-label="([^"]*)"[^>]*points="([^"]*)"/g)];
  expect(polylines.map((m) => m[1])).toEqual(["rigger-probe-1 (relay udp)", `&lt;i&gt;probe-2&lt;/i&gt; ${MASK}`]);
  const first = polylines[0]![2]!.split(" ").map((point) => point.split(",").map(Number));
  expect(first.map(([x]) => x)).toEqual([56 + 452 / 3, 56 + (452 * 2) / 3, 508].map((x) => Number(x.toFixed(1))));
  expect(first[1]![1]).toBe(28); // the largest value at the top of the plot
  expect(html).toContain(">4</text>");
  expect(html).toContain(">1.5 s</text>");
  expect(html).not.toContain("the-probe-password-0123456789");
  expect(html).not.toContain("<i>probe-2");
  expect(html).not.toMatch(/<script/);
  // The checks without charts have no section; the JSON keeps the numbers.
  expect(html.match(/class="over-time"/g)).toHaveLength(1);
  expect(JSON.parse(readFileSync(written.json, "utf8")).checks[0].charts[0].lines[0].points).toEqual([
    [500, 2],
    [1000, 4],
    [1500, 3],
  ]);
});
