/** A shell-style glob (`*` any run, `?` one character; nothing else special) as an anchored RegExp. */
export function globToRegExp(glob: string, flags = ""): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replace(/\*/g, ".*")
    .replace(/\?/g, ".");
  return new RegExp(`^${escaped}$`, flags);
}

/** OpenSSH's pattern lists: a matching `!pattern` excludes, whatever else matches; otherwise any plain one includes. */
export function patternListMatches(patterns: string[], matches: (pattern: string) => boolean): boolean {
  if (patterns.some((p) => p.startsWith("!") && matches(p.slice(1)))) return false;
  return patterns.some((p) => !p.startsWith("!") && matches(p));
}
