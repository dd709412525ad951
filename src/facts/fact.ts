/** A fact: what a host is like, read by a shell snippet and turned into a typed value by a parser. */
export interface Fact<T> {
  /** Identifies the fact and its arguments: two facts with one key are one read. */
  key: string;
  /** A POSIX sh snippet; its stdout and exit code go to `parse`. */
  command: string;
  parse(stdout: string, exitCode: number): T;
  /** Set when facts of its kind can be read by one command for many (one `stat` for twenty files). */
  family?: { of: FactFamily; member: string };
}

/**
 * A kind of fact that is cheaper read for many at once: one command for all the members a batch
 * has, its output parted into what each member's own command would have printed, so each fact's
 * parser reads it as before. A batch with one member of a family runs that fact's own command.
 */
export interface FactFamily {
  command(members: string[]): string;
  /** Each member's stdout and exit code, in the order given; throws when the output cannot be parted or tells of a failed read. */
  split(stdout: string, members: string[], exitCode: number): Array<{ stdout: string; exitCode: number }>;
}

export type FactValue<F> = F extends Fact<infer T> ? T : never;
export type FactValues<F extends Record<string, Fact<unknown>>> = { [K in keyof F]: FactValue<F[K]> };

export function defineFact<T>(key: string, command: string, parse: (stdout: string, exitCode: number) => T): Fact<T> {
  return { key, command, parse };
}

/** Exit code of a snippet that found nothing there: "absent", which is not "could not be read". */
export const ABSENT = 100;

/** What a batch runs: one fact's command, or one command for the facts of a family. */
interface Read {
  command: string;
  facts: Fact<unknown>[];
  outputs(stdout: string, exitCode: number): Array<{ stdout: string; exitCode: number }>;
}

function reads(facts: Fact<unknown>[]): Read[] {
  const families = new Map<FactFamily, Fact<unknown>[]>();
  for (const fact of facts)
    if (fact.family) families.set(fact.family.of, [...(families.get(fact.family.of) ?? []), fact]);
  const together = [...families].filter(([, members]) => members.length > 1);
  const alone = facts.filter((fact) => !fact.family || families.get(fact.family.of)!.length === 1);
  return [
    ...alone.map((fact) => ({
      command: fact.command,
      facts: [fact],
      outputs: (stdout: string, exitCode: number) => [{ stdout, exitCode }],
    })),
    ...together.map(([family, members]) => {
      const names = members.map((fact) => fact.family!.member);
      return {
        command: family.command(names),
        facts: members,
        outputs: (stdout: string, exitCode: number) => family.split(stdout, names, exitCode),
      };
    }),
  ];
}

/**
 * One script that reads many facts in one round trip, in the C locale. The reads run at once,
 * each in its own subshell on lines of its own (a `#`, a quote or a here-doc in one cannot swallow
 * the framing of the next), each into a file of a private directory, framed by markers that carry
 * the run's random nonce, so no output can forge a frame; one `cat` prints them all.
 */
export function batchScript(facts: Fact<unknown>[], nonce: string): string {
  const started = reads(facts).map((read, i) => [
    "{",
    `printf '\\n${nonce} ${i} begin\\n'`,
    "(",
    read.command,
    ") 2>/dev/null </dev/null",
    `printf '\\n${nonce} ${i} end %s\\n' "$?"`,
    `} >"$d/${i}" &`,
  ]);
  return ["export LC_ALL=C", "d=$(mktemp -d) || exit 1", ...started.flat(), "wait", 'cat "$d"/*', 'rm -rf "$d"'].join(
    "\n",
  );
}

/**
 * A fact that could not be read (Docker's daemon down, no answer from systemctl): kept as the
 * fact's value, it fails the task that needs it, not the whole batch (a task before that one may be
 * what brings the daemon back).
 */
export class FactReadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "FactReadError";
  }
}

export function parseBatch(facts: Fact<unknown>[], nonce: string, output: string): Map<string, unknown> {
  const values = new Map<string, unknown>();
  reads(facts).forEach((read, i) => {
    const named = read.facts.map((fact) => fact.key).join(", ");
    const begin = output.indexOf(`\n${nonce} ${i} begin\n`);
    const endMarker = `\n${nonce} ${i} end `;
    const end = output.indexOf(endMarker, begin);
    if (begin < 0 || end < 0) throw new Error(`fact ${named}: its output is missing from the batch`);
    let outputs: Array<{ stdout: string; exitCode: number }>;
    try {
      outputs = read.outputs(
        output.slice(begin + `\n${nonce} ${i} begin\n`.length, end),
        Number.parseInt(output.slice(end + endMarker.length), 10),
      );
    } catch (error) {
      const failed = new FactReadError(`facts ${named} could not be read: ${(error as Error).message}`);
      return read.facts.forEach((fact) => values.set(fact.key, failed));
    }
    read.facts.forEach((fact, j) => {
      try {
        values.set(fact.key, fact.parse(outputs[j]!.stdout, outputs[j]!.exitCode));
      } catch (error) {
        values.set(fact.key, new FactReadError(`fact ${fact.key} could not be read: ${(error as Error).message}`));
      }
    });
  });
  return values;
}
