import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { RunEvent, TaskEvent } from "../engine/events.js";
import type { Masker } from "../engine/masker.js";
import type { Chart } from "../ops/operation.js";
import { renderHtml, type HostPicture } from "./report-html.js";

export interface Check {
  host: string;
  role: string;
  check: string;
  passed: boolean;
  /** What the probe saw, or why it failed. */
  evidence: string;
  /** How it went over time (a call's quality), when the check measured that. */
  charts?: Chart[];
  ms: number;
}

/** Every verify probe of a run, as a check with its evidence (probes skipped in check mode are left out). */
export function checksOf(events: RunEvent[]): Check[] {
  return events
    .filter((e): e is TaskEvent => e.type === "task" && e.task.startsWith("verify: ") && e.status !== "skipped")
    .map((e) => ({
      host: e.host,
      role: e.role,
      check: e.task.slice("verify: ".length),
      passed: e.status === "ok",
      evidence: e.error ?? e.evidence ?? "",
      ...(e.charts ? { charts: e.charts } : {}),
      ms: e.ms,
    }));
}

/** The evidence report: report.json for machines, report.md and report.html for people; masked, 0600. */
export function writeEvidenceReport(
  dir: string,
  meta: Record<string, string | number>,
  events: RunEvent[],
  masker: Masker,
  pictures: HostPicture[] = [],
): { json: string; markdown: string; html: string } {
  const checks = checksOf(events);
  const passed = checks.filter((c) => c.passed).length;
  // Masked once, before any form escapes anything (JSON's quotes, Markdown's pipes and newlines, HTML's entities).
  const {
    checks: shown,
    hosts,
    ...summary
  } = masker.maskDeep({ ...meta, passed, failed: checks.length - passed, hosts: pictures, checks });
  mkdirSync(dir, { recursive: true });
  const json = join(dir, "report.json");
  const markdown = join(dir, "report.md");
  const html = join(dir, "report.html");
  writeFileSync(json, JSON.stringify({ ...summary, hosts, checks: shown }, null, 2) + "\n", { mode: 0o600 });
  writeFileSync(markdown, renderMarkdown(summary, shown), { mode: 0o600 });
  writeFileSync(html, renderHtml(summary, shown, hosts), { mode: 0o600 });
  return { json, markdown, html };
}

function renderMarkdown(summary: Record<string, string | number>, checks: Check[]): string {
  const cell = (text: string) => text.replace(/\|/g, "\\|").replace(/\n/g, " ");
  const lines = ["# Evidence report", "", ...Object.entries(summary).map(([k, v]) => `- ${k}: ${v}`)];
  for (const host of new Set(checks.map((c) => c.host))) {
    const mine = checks.filter((c) => c.host === host);
    lines.push("", `## ${host}`, "", "| role | check | result | time |", "|---|---|---|---|");
    mine.forEach((c) =>
      lines.push(`| ${c.role} | ${cell(c.check)} | ${c.passed ? "pass" : "**FAIL**"} | ${c.ms} ms |`),
    );
    for (const c of mine)
      lines.push(
        "",
        `### ${c.role}: ${c.check} (${c.passed ? "pass" : "FAIL"})`,
        "",
        "```",
        c.evidence || "(no output)",
        "```",
      );
  }
  return lines.join("\n") + "\n";
}
