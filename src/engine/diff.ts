import { structuredPatch } from "diff";

/** Lines of context around each change. */
const CONTEXT = 2;
/** A diff that takes longer (a file rewritten from end to end) is said to be too large rather than awaited. */
const TIMEOUT_MS = 500;

/**
 * A unified diff of two texts (jsdiff's, Myers' algorithm: a small edit in a large file costs
 * little), with two lines of context and `@@` hunk headers. `hideRemoved` replaces every removed
 * line: the old lines of a file that holds secrets may hold a rotated one no one knows to mask any more.
 */
export function lineDiff(before: string, after: string, path: string, options: { hideRemoved?: string } = {}): string {
  const header = [`--- ${path} (on the host)`, `+++ ${path} (wanted)`];
  const patch = structuredPatch(path, path, before, after, undefined, undefined, {
    context: CONTEXT,
    timeout: TIMEOUT_MS,
  });
  if (!patch)
    return [
      ...header,
      `(too large to diff line by line: ${lineCount(before)} lines on the host against ${lineCount(after)} wanted)`,
    ].join("\n");
  const hunks = patch.hunks.flatMap((hunk) => [
    `@@ -${hunk.oldStart},${hunk.oldLines} +${hunk.newStart},${hunk.newLines} @@`,
    ...hunk.lines.map((line) => (options.hideRemoved && line.startsWith("-") ? `-${options.hideRemoved}` : line)),
  ]);
  return [...header, ...hunks].join("\n");
}

const lineCount = (text: string) => text.split("\n").length - (text.endsWith("\n") ? 1 : 0);
