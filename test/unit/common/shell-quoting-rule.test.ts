/**
 * The rule that keeps commands safe from the values they carry: an `sh` template quotes each
 * value itself, so no value may sit inside quotes the template writes around it (`'${path}'`
 * would put quotes inside quotes: a path with a space or a `'` breaks out, `$(...)` runs).
 */
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { expect, it } from "vitest";
import { sh } from "../../../src/common/shell.js";

/** The sh`...` templates of a source text, with where each starts. */
function shTemplates(source: string): Array<{ at: number; body: string }> {
  const found: Array<{ at: number; body: string }> = [];
  for (const match of source.matchAll(/\bsh`/g)) {
    let i = match.index + 3;
    let depth = 0;
    // The template ends at the first backtick outside any ${...}.
    for (; i < source.length; i++) {
      if (source[i] === "\\") i++;
      else if (source.startsWith("${", i)) (depth++, i++);
      else if (source[i] === "}" && depth > 0) depth--;
      else if (source[i] === "`" && depth === 0) break;
    }
    found.push({ at: match.index, body: source.slice(match.index + 3, i) });
  }
  return found;
}

/** The interpolations of a template body that sit inside quotes the template writes. */
function quotedInterpolations(body: string): string[] {
  const offending: string[] = [];
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === "\\") {
      i++;
      continue;
    }
    if (body.startsWith("${", i)) {
      let depth = 1;
      let j = i + 2;
      for (; j < body.length && depth > 0; j++) depth += body[j] === "{" ? 1 : body[j] === "}" ? -1 : 0;
      if (quote) offending.push(body.slice(i, j));
      i = j - 1;
      continue;
    }
    // A $( ... ) inside double quotes starts a new quoting context; track the simple cases only.
    if (quote === undefined && (c === "'" || c === '"')) quote = c;
    else if (c === quote) quote = undefined;
  }
  return offending;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .map((entry) => join(entry.parentPath, entry.name));
}

it("finds a value inside quotes written around it, and passes one left to sh's own quoting", () => {
  expect(quotedInterpolations("trap 'rm -f ${temporary}' EXIT")).toEqual(["${temporary}"]);
  expect(quotedInterpolations('echo "${what} is done"')).toEqual(["${what}"]);
  expect(quotedInterpolations("rm -f -- ${temporary}; echo '%s' \"$x\"")).toEqual([]);
});

it("no sh template in the engine or the roles nests a quoted value inside quotes", () => {
  const violations = [...sources("src"), ...sources("roles")].flatMap((file) =>
    shTemplates(readFileSync(file, "utf8")).flatMap(({ body }) =>
      quotedInterpolations(body).map((value) => `${file}: ${value} in sh\`${body.slice(0, 60)}...\``),
    ),
  );
  expect(violations).toEqual([]);
});

it("keeps a hostile value one word that a real sh gives back unchanged", () => {
  for (const hostile of [
    "a b",
    "it's",
    'say "hi"',
    "$(touch /x)",
    "`id`",
    "line\nbreak",
    "-rf",
    "*",
    "'; rm -rf / #",
  ]) {
    expect(execFileSync("sh", ["-c", sh`printf '%s' ${hostile}`], { encoding: "utf8" })).toBe(hostile);
  }
});
