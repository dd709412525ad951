import { sh } from "../common/shell.js";
import { ConfigError } from "../inventory/errors.js";
import type { HostSession } from "./host-session.js";
import type { SecretOnHost } from "./secret-on-host.js";

/** A secret this run would generate, and where a host that ran its role keeps it. */
export type SecretSource = SecretOnHost & { name: string };

/**
 * Reads back, from the hosts, the secrets a run without its store would otherwise generate anew
 * (a new laptop, a second operator, a deleted file): one command per host, reading each file as
 * the become user. A value found is adopted; hosts that disagree, or a file that is there but holds
 * nothing readable, stop the run naming the secret, the host and the way out. Never a new value
 * over a live one.
 */
export async function adoptSecrets(
  sources: Map<string, SecretSource[]>,
  open: (host: string) => Promise<HostSession>,
): Promise<{ adopted: Record<string, string>; notes: string[] }> {
  const found = new Map<string, { value: string; host: string; path: string }>();
  await Promise.all(
    [...sources].map(async ([host, wanted]) => {
      const session = await open(host);
      try {
        const paths = [...new Set(wanted.map((source) => source.path))];
        // One line per path: its content in base64, or "-" when the host has no such file.
        const read = await session.run(`for f in ${paths.map((p) => sh`${p}`).join(" ")}; do if [ -e "$f" ]; then base64 -w0 -- "$f"; echo; else echo -; fi; done`);
        if (read.code !== 0) throw new ConfigError(host, "secrets", `could not read where its secrets are kept (${read.stderr.trim()}): nothing was generated; fix the access, or restore secrets.yaml`);
        const contents = new Map(paths.map((path, i) => [path, read.stdout.split("\n")[i]]));
        for (const source of wanted) {
          const encoded = contents.get(source.path);
          if (!encoded || encoded === "-") continue;
          let value: string | undefined;
          try {
            value = source.pick(Buffer.from(encoded, "base64").toString("utf8"));
          } catch (error) {
            throw new ConfigError(host, source.name, `${source.path} is there but cannot be read back (${(error as Error).message}): rather than generate a new one over it, the run stops; restore secrets.yaml, or set ${source.name} by hand (rigger secrets set)`);
          }
          if (value === undefined) continue;
          const seen = found.get(source.name);
          if (seen && seen.value !== value)
            throw new ConfigError(host, source.name, `differs from the one on ${seen.host} (${seen.path} and ${source.path}): the store cannot tell which is live; set the right one with rigger secrets set ${source.name}`);
          found.set(source.name, { value, host, path: source.path });
        }
      } finally {
        session.close();
      }
    }),
  );
  return {
    adopted: Object.fromEntries([...found].map(([name, { value }]) => [name, value])),
    notes: [...found].map(([name, { host, path }]) => `${name}: not in the secrets store; adopted from ${host} (${path}) rather than generated anew`),
  };
}
