const CONTEXT = 2;
/** The largest differing middle (lines before x lines after) diffed line by line: bounded time and memory. */
const MAX_CELLS = 4_000_000;

type Edit = { mark: " " | "-" | "+"; text: string; old: number; new: number };

/**
 * A unified diff of two texts, with two lines of context around each change and `@@` hunk
 * headers. The common head and tail are matched first, so a small edit in a large file costs
 * little; a differing middle too large for an LCS is reported as such instead of diffed.
 */
export function lineDiff(before: string, after: string, path: string, options: { hideRemoved?: string } = {}): string {
  const a = before.split("\n");
  const b = after.split("\n");
  let head = 0;
  while (head < a.length && head < b.length && a[head] === b[head]) head++;
  let tail = 0;
  while (tail < a.length - head && tail < b.length - head && a[a.length - 1 - tail] === b[b.length - 1 - tail]) tail++;
  const [midA, midB] = [a.slice(head, a.length - tail), b.slice(head, b.length - tail)];
  const header = [`--- ${path} (on the host)`, `+++ ${path} (wanted)`];
  if ((midA.length + 1) * (midB.length + 1) > MAX_CELLS)
    return [...header, `(too large to diff line by line: lines ${head + 1}-${a.length - tail} on the host against ${head + 1}-${b.length - tail} wanted)`].join("\n");
  const script: Edit[] = [
    ...a.slice(0, head).map((text, k): Edit => ({ mark: " ", text, old: k, new: k })),
    ...editScript(midA, midB, head),
    ...a.slice(a.length - tail).map((text, k): Edit => ({ mark: " ", text, old: a.length - tail + k, new: b.length - tail + k })),
  ];
  // A file that holds secrets: its old lines may hold a rotated secret no one knows to mask any more.
  const shown = options.hideRemoved ? script.map((e) => (e.mark === "-" ? { ...e, text: options.hideRemoved! } : e)) : script;
  return [...header, ...hunks(shown)].join("\n");
}

/** Each line kept (" "), removed ("-") or added ("+"), with its line numbers, by a plain LCS. */
function editScript(a: string[], b: string[], offset: number): Edit[] {
  const lcs: Uint32Array[] = Array.from({ length: a.length + 1 }, () => new Uint32Array(b.length + 1));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  const script: Edit[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) script.push({ mark: " ", text: a[i]!, old: offset + i++, new: offset + j++ });
    else if (i < a.length && (j >= b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) script.push({ mark: "-", text: a[i]!, old: offset + i++, new: offset + j });
    else script.push({ mark: "+", text: b[j]!, old: offset + i, new: offset + j++ });
  }
  return script;
}

/** The changes with their context, as `@@` hunks. */
function hunks(script: Edit[]): string[] {
  const lines: string[] = [];
  const changed = script.map((entry, k) => (entry.mark !== " " ? k : -1)).filter((k) => k >= 0);
  let k = 0;
  while (k < changed.length) {
    const start = Math.max(0, changed[k]! - CONTEXT);
    let end = changed[k]!;
    while (k < changed.length && changed[k]! - end <= 2 * CONTEXT + 1) end = changed[k++]!;
    const hunk = script.slice(start, Math.min(script.length, end + CONTEXT + 1));
    const oldCount = hunk.filter((e) => e.mark !== "+").length;
    const newCount = hunk.filter((e) => e.mark !== "-").length;
    lines.push(`@@ -${hunk[0]!.old + 1},${oldCount} +${hunk[0]!.new + 1},${newCount} @@`, ...hunk.map((e) => e.mark + e.text));
  }
  return lines;
}
