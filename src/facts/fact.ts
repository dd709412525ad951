/** A fact: what a host is like, read by a shell snippet and turned into a typed value by a parser. */
export interface Fact<T> {
  /** Identifies the fact and its arguments: two facts with one key are one read. */
  key: string;
  /** A POSIX sh snippet; its stdout and exit code go to `parse`. */
  command: string;
  parse(stdout: string, exitCode: number): T;
}

export type FactValue<F> = F extends Fact<infer T> ? T : never;
export type FactValues<F extends Record<string, Fact<unknown>>> = { [K in keyof F]: FactValue<F[K]> };

export function defineFact<T>(key: string, command: string, parse: (stdout: string, exitCode: number) => T): Fact<T> {
  return { key, command, parse };
}

/** Exit code of a snippet that found nothing there: "absent", which is not "could not be read". */
export const ABSENT = 100;

/**
 * One script that reads many facts in one round trip, in the C locale. The snippets run at once,
 * each in its own subshell on lines of its own (a `#`, a quote or a here-doc in one cannot swallow
 * the framing of the next), into files of a private directory; then their outputs are printed in
 * order, each framed by a marker that carries the run's random nonce, so no output can forge a frame.
 */
export function batchScript(facts: Fact<unknown>[], nonce: string): string {
  const started = facts.map((fact, i) => ["{", "(", fact.command, `) >"$d/${i}" 2>/dev/null </dev/null`, `echo "$?" >"$d/${i}.rc"`, "} &"]);
  const framed = facts.map((_, i) => `printf '\\n${nonce} ${i} begin\\n'; cat "$d/${i}"; printf '\\n${nonce} ${i} end %s\\n' "$(cat "$d/${i}.rc")"`);
  return ["export LC_ALL=C", 'd=$(mktemp -d) || exit 1', ...started.flat(), "wait", ...framed, 'rm -rf "$d"'].join("\n");
}

export function parseBatch(facts: Fact<unknown>[], nonce: string, output: string): Map<string, unknown> {
  const values = new Map<string, unknown>();
  facts.forEach((fact, i) => {
    const begin = output.indexOf(`\n${nonce} ${i} begin\n`);
    const endMarker = `\n${nonce} ${i} end `;
    const end = output.indexOf(endMarker, begin);
    if (begin < 0 || end < 0) throw new Error(`fact ${fact.key}: its output is missing from the batch`);
    const stdout = output.slice(begin + `\n${nonce} ${i} begin\n`.length, end);
    const exitCode = Number.parseInt(output.slice(end + endMarker.length), 10);
    try {
      values.set(fact.key, fact.parse(stdout, exitCode));
    } catch (error) {
      throw new Error(`fact ${fact.key} could not be read: ${(error as Error).message}`);
    }
  });
  return values;
}
