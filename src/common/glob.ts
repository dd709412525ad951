/** A shell-style glob (`*` any run, `?` one character; nothing else special) as an anchored RegExp. */
export function globToRegExp(glob: string, flags = ""): RegExp {
  const escaped = glob.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
  return new RegExp(`^${escaped}$`, flags);
}
