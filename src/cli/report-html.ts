import { escapeHtml as escape } from "../common/html.js";
import type { PortRule } from "../common/ports.js";
import { portText } from "../common/ports.js";
import type { Check } from "./report.js";
import { svgChart } from "./report-chart.js";

/** A host as the report draws it: what runs there, the ports open to the outside, the names it answers. */
export interface HostPicture {
  host: string;
  services: string[];
  ports: PortRule[];
  names: string[];
}

const STYLE = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 2em; color: #1b1b1b; }
h1 { margin-bottom: 0.2em; }
.summary { color: #555; margin-bottom: 1.5em; }
.verdict { font-weight: 600; padding: 0.1em 0.5em; border-radius: 4px; color: white; }
.pass { background: #2e7d32; } .fail { background: #c62828; }
.hosts { display: flex; flex-wrap: wrap; gap: 1.5em; margin-bottom: 2em; }
.host { border: 2px solid #444; border-radius: 8px; padding: 0.8em 1em; min-width: 18em; }
.host h2 { margin: 0 0 0.5em; font-size: 1.2em; }
.names { margin: 0 0 0.6em; padding: 0; list-style: none; }
.names li::before { content: "\\2192  "; color: #1565c0; }
.services { display: flex; flex-wrap: wrap; gap: 0.4em; margin-bottom: 0.6em; }
.service { border-radius: 4px; padding: 0.15em 0.5em; color: white; }
.service.unchecked { background: #757575; }
.ports { font-family: ui-monospace, monospace; font-size: 0.9em; color: #333; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: 0.3em 0.6em; border-bottom: 1px solid #ddd; }
.over-time { margin-bottom: 2em; }
.over-time h2 { font-size: 1.1em; }
.charts { display: flex; flex-wrap: wrap; gap: 1em; }
.chart { margin: 0; }
.chart figcaption { font-weight: 600; }
.legend { margin-right: 1em; font-size: 0.85em; }
.swatch { display: inline-block; width: 0.8em; height: 0.8em; margin-right: 0.3em; border-radius: 2px; }
pre { margin: 0; white-space: pre-wrap; word-break: break-word; font-size: 0.85em; }
`;

/** A service's box: green when every check of it on that host passed, red when one failed, grey when none ran. */
function serviceBox(host: string, service: string, checks: Check[]): string {
  const mine = checks.filter((c) => c.host === host && c.role === service);
  const state = !mine.length ? "unchecked" : mine.every((c) => c.passed) ? "pass" : "fail";
  const title = mine.length ? `${mine.filter((c) => c.passed).length} of ${mine.length} checks passed` : "no checks";
  return `<span class="service ${state}" title="${escape(title)}">${escape(service)}</span>`;
}

function hostCard(picture: HostPicture, checks: Check[]): string {
  const ports = picture.ports.map(
    (rule) =>
      `<li>${escape(`${portText(rule)}/${rule.protocol}`)}${rule.comment ? ` <span>${escape(rule.comment)}</span>` : ""}${rule.sources ? ` (from ${escape(rule.sources.join(", "))})` : ""}</li>`,
  );
  return [
    `<section class="host" data-host="${escape(picture.host)}">`,
    `<h2>${escape(picture.host)}</h2>`,
    picture.names.length
      ? `<ul class="names">${picture.names.map((name) => `<li>${escape(name)}</li>`).join("")}</ul>`
      : "",
    `<div class="services">${picture.services.map((service) => serviceBox(picture.host, service, checks)).join("")}</div>`,
    ports.length ? `<ul class="ports">${ports.join("")}</ul>` : "",
    "</section>",
  ].join("\n");
}

/** A check's charts, under its name and what it saw. */
function overTime(check: Check): string {
  return [
    `<section class="over-time" data-check="${escape(check.check)}">`,
    `<h2>${escape(`${check.host} · ${check.role}: ${check.check}`)}</h2>`,
    `<pre>${escape(check.evidence)}</pre>`,
    `<div class="charts">${check.charts!.map(svgChart).join("\n")}</div>`,
    "</section>",
  ].join("\n");
}

/**
 * The evidence report as one self-contained page (no script, no fetched resource): the hosts as a
 * picture, the charts of the checks that measured over time (a call's quality), then every check.
 */
export function renderHtml(summary: Record<string, unknown>, checks: Check[], hosts: HostPicture[]): string {
  const failed = checks.filter((c) => !c.passed).length;
  const rows = checks.map(
    (c) =>
      `<tr class="${c.passed ? "passed" : "failed"}"><td>${escape(c.host)}</td><td>${escape(c.role)}</td><td>${escape(c.check)}</td>` +
      `<td><span class="verdict ${c.passed ? "pass" : "fail"}">${c.passed ? "pass" : "FAIL"}</span></td><td>${c.ms} ms</td>` +
      `<td><pre>${escape(c.evidence || "(no output)")}</pre></td></tr>`,
  );
  return [
    "<!doctype html>",
    '<html lang="en"><head><meta charset="utf-8"><title>Evidence report</title>',
    `<style>${STYLE}</style></head><body>`,
    "<h1>Evidence report</h1>",
    `<p class="summary">${Object.entries(summary)
      .map(([key, value]) => `${escape(key)}: ${escape(String(value))}`)
      .join(" · ")}</p>`,
    `<p><span class="verdict ${failed ? "fail" : "pass"}" id="verdict">${failed ? `${failed} of ${checks.length} checks failed` : `all ${checks.length} checks passed`}</span></p>`,
    `<div class="hosts">${hosts.map((picture) => hostCard(picture, checks)).join("\n")}</div>`,
    ...checks.filter((c) => c.charts?.length).map(overTime),
    "<table><thead><tr><th>host</th><th>role</th><th>check</th><th>result</th><th>time</th><th>what it saw</th></tr></thead>",
    `<tbody>${rows.join("\n")}</tbody></table>`,
    "</body></html>",
    "",
  ].join("\n");
}
