/**
 * A chart of the evidence report as inline SVG: a line per series over the check's seconds, the
 * axis from 0 to the largest value, a legend naming each line. No script, nothing fetched.
 */
import { escapeHtml } from "../common/html.js";
import type { Chart } from "../ops/operation.js";

const WIDTH = 520;
const HEIGHT = 200;
const MARGIN = { left: 56, right: 12, top: 28, bottom: 28 };
const COLOURS = ["#1565c0", "#c62828", "#2e7d32", "#ef6c00", "#6a1b9a", "#00838f", "#5d4037", "#ad1457"];

/** A value as the axis labels it: at most three significant digits. */
const label = (value: number) => String(Number(value.toPrecision(3)));

export function svgChart(chart: Chart): string {
  const points = chart.lines.flatMap((line) => line.points);
  const lastMs = Math.max(1, ...points.map(([ms]) => ms));
  const top = Math.max(...points.map(([, value]) => value), 0) || 1;
  const plotWidth = WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = HEIGHT - MARGIN.top - MARGIN.bottom;
  const x = (ms: number) => (MARGIN.left + (ms / lastMs) * plotWidth).toFixed(1);
  const y = (value: number) => (MARGIN.top + plotHeight - (value / top) * plotHeight).toFixed(1);
  const lines = chart.lines.map(
    (line, i) =>
      `<polyline class="series" data-label="${escapeHtml(line.label)}" fill="none" stroke-width="2" stroke="${COLOURS[i % COLOURS.length]}" ` +
      `points="${line.points.map(([ms, value]) => `${x(ms)},${y(value)}`).join(" ")}"/>`,
  );
  const legend = chart.lines.map(
    (line, i) =>
      `<span class="legend"><span class="swatch" style="background:${COLOURS[i % COLOURS.length]}"></span>${escapeHtml(line.label)}</span>`,
  );
  const bottom = MARGIN.top + plotHeight;
  return [
    `<figure class="chart" data-title="${escapeHtml(chart.title)}">`,
    `<figcaption>${escapeHtml(chart.title)} (${escapeHtml(chart.unit)})</figcaption>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" role="img" aria-label="${escapeHtml(chart.title)}">`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${bottom}" stroke="#888"/>`,
    `<line x1="${MARGIN.left}" y1="${bottom}" x2="${WIDTH - MARGIN.right}" y2="${bottom}" stroke="#888"/>`,
    `<text x="${MARGIN.left - 6}" y="${MARGIN.top + 4}" text-anchor="end" font-size="11">${label(top)}</text>`,
    `<text x="${MARGIN.left - 6}" y="${bottom}" text-anchor="end" font-size="11">0</text>`,
    `<text x="${WIDTH - MARGIN.right}" y="${HEIGHT - 8}" text-anchor="end" font-size="11">${label(lastMs / 1000)} s</text>`,
    ...lines,
    "</svg>",
    `<div class="legends">${legend.join("")}</div>`,
    "</figure>",
  ].join("\n");
}
