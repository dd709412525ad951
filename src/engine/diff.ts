const CONTEXT = 2;

/**
 * A unified diff of two texts (configuration files: small enough for a plain LCS), with two
 * lines of context around each change and `@@` hunk headers.
 */
export function lineDiff(before: string, after: string, path: string): string {
  const a = before.split("\n");
  const b = after.split("\n");
  const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
  for (let i = a.length - 1; i >= 0; i--)
    for (let j = b.length - 1; j >= 0; j--) lcs[i]![j] = a[i] === b[j] ? lcs[i + 1]![j + 1]! + 1 : Math.max(lcs[i + 1]![j]!, lcs[i]![j + 1]!);
  // The edit script: each line kept (" "), removed ("-") or added ("+"), with its line numbers.
  const script: Array<{ mark: " " | "-" | "+"; text: string; old: number; new: number }> = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    if (i < a.length && j < b.length && a[i] === b[j]) script.push({ mark: " ", text: a[i]!, old: i++, new: j++ });
    else if (i < a.length && (j >= b.length || lcs[i + 1]![j]! >= lcs[i]![j + 1]!)) script.push({ mark: "-", text: a[i]!, old: i++, new: j });
    else script.push({ mark: "+", text: b[j]!, old: i, new: j++ });
  }
  const lines = [`--- ${path} (on the host)`, `+++ ${path} (wanted)`];
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
  return lines.join("\n");
}
