import { sh } from "../common/shell.js";
import { Semaphore } from "../connection/semaphore.js";
import { ConfigError } from "../inventory/errors.js";
import type { HostSession } from "./host-session.js";
import type { SecretOnHost } from "./secret-on-host.js";

/** A secret this run would generate, and where a host that ran its role keeps it. */
export type SecretSource = SecretOnHost & { name: string };

/**
 * Reads back, from the hosts, the secrets a run would otherwise generate anew (a store lost,
 * partial, or older than a role): one command per host, at most `forks` hosts at once, reading
 * each file as the become user. A value found is adopted; hosts that disagree, or a file that is
 * there but holds nothing readable (empty, not a file, unreadable), stop the run naming the secret,
 * the host and the way out. Never a new value over a live one.
 */
export async function adoptSecrets(
  sources: Map<string, SecretSource[]>,
  open: (host: string) => Promise<HostSession>,
  forks: number,
): Promise<{ adopted: Record<string, string>; notes: string[] }> {
  const found = new Map<string, { value: string; host: string; path: string }>();
  const admitted = new Semaphore(forks);
  await Promise.all(
    [...sources].map(([host, wanted]) =>
      admitted.run(async () => {
        const session = await open(host);
        try {
          for (const [source, content] of await readOnHost(session, host, wanted)) {
            if (content === undefined) continue;
            let value: string | undefined;
            try {
              value = source.pick(content);
            } catch (error) {
              throw new ConfigError(
                host,
                source.name,
                `${source.path} is there but cannot be read back (${(error as Error).message}): rather than generate a new one over it, the run stops; restore secrets.yaml, or set ${source.name} by hand (rigger secrets set)`,
              );
            }
            if (value === undefined) continue;
            const seen = found.get(source.name);
            if (seen && seen.value !== value)
              throw new ConfigError(
                host,
                source.name,
                `differs from the one on ${seen.host} (${seen.path} and ${source.path}): the store cannot tell which is live; set the right one with rigger secrets set ${source.name}`,
              );
            found.set(source.name, { value, host, path: source.path });
          }
        } finally {
          await session.close();
        }
      }),
    ),
  );
  return {
    adopted: Object.fromEntries([...found].map(([name, { value }]) => [name, value])),
    notes: [...found].map(
      ([name, { host, path }]) =>
        `${name}: not in the secrets store; adopted from ${host} (${path}) rather than generated anew`,
    ),
  };
}

/**
 * Each source's file content, undefined where the host has no such file, in one command: a line per
 * path, "-" for none, "=" and its content in base64, or "!" for a path that is there but is no
 * readable file (an empty or unreadable file is a live value gone bad, never an absence).
 */
async function readOnHost(
  session: HostSession,
  host: string,
  wanted: SecretSource[],
): Promise<Array<[SecretSource, string | undefined]>> {
  const paths = [...new Set(wanted.map((source) => source.path))];
  const read = await session.run(
    `for f in ${paths.map((p) => sh`${p}`).join(" ")}; do if [ ! -e "$f" ]; then echo -; elif [ -f "$f" ] && b=$(base64 -w0 -- "$f"); then echo "=$b"; else echo '!'; fi; done`,
  );
  if (read.code !== 0)
    throw new ConfigError(
      host,
      "secrets",
      `could not read where its secrets are kept (${read.stderr.trim()}): nothing was generated; fix the access, or restore secrets.yaml`,
    );
  const lines = new Map(paths.map((path, i) => [path, read.stdout.split("\n")[i] ?? "!"]));
  return wanted.map((source) => {
    const line = lines.get(source.path)!;
    if (line === "-") return [source, undefined];
    if (line === "!" || line === "=")
      throw new ConfigError(
        host,
        source.name,
        `${source.path} is there but ${line === "=" ? "empty" : "not a readable file"}: rather than generate a new one over it, the run stops; restore the file or secrets.yaml, or set ${source.name} by hand (rigger secrets set)`,
      );
    return [source, Buffer.from(line.slice(1), "base64").toString("utf8")];
  });
}
