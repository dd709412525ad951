import { existsSync } from "node:fs";
import { UnreachableError } from "../connection/errors.js";
import type { RunEvent } from "../engine/events.js";
import { Masker } from "../engine/masker.js";
import type { Playbook } from "../engine/playbook.js";
import { preparePlaybook } from "../engine/prepare.js";
import { runPlays } from "../engine/runner.js";
import { connectionVars, connectionWarnings } from "../inventory/connection-vars.js";
import { ConfigError } from "../inventory/errors.js";
import { loadInventory, openSecretsStore, type Inventory } from "../inventory/load.js";
import { keepSecrets } from "../inventory/secrets-keeping.js";
import { adoptSecrets } from "../engine/adopt-secrets.js";
import { refuseShortSecrets, secretStrings } from "../inventory/secret-vars.js";
import { parseCli, USAGE, UsageError, type CliOptions } from "./args.js";
import { parseExtraVars } from "./extra-vars.js";
import { openSshConfig } from "../connection/ssh-config.js";
import { listInventory } from "./list-inventory.js";
import { listHosts, listTags, listTasks } from "./listing.js";
import { importPlaybook } from "./playbook-loader.js";
import { promptHidden } from "./prompt.js";
import { secretsCommand } from "./secrets-command.js";
import { writeEvidenceReport } from "./report.js";
import { fromEvents, writeMetricsFile } from "./metrics-file.js";
import { LineRenderer, type Renderer } from "./output.js";
import { connect } from "./connect-host.js";
import { noHostMatches, unknownTagsWarning } from "./preflight.js";
import { checkOutputPaths, version, writeEarlyOutcome, writeJsonReport, type Io } from "./run-outputs.js";

export const EXIT = { ok: 0, config: 1, failed: 2, drift: 3, unreachable: 4 } as const;

const stdio: Io = { out: (l) => process.stdout.write(`${l}\n`), err: (l) => process.stderr.write(`${l}\n`) };

export async function main(argv: string[], io: Io = stdio): Promise<number> {
  if (argv[0] === "secrets") return secrets(argv.slice(1), io);
  let options: CliOptions;
  try {
    options = parseCli(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    io.err(usageSlip(error));
    return EXIT.config;
  }
  if (options.help) return (io.out(USAGE), EXIT.ok);
  if (options.version) return (io.out(version()), EXIT.ok);

  const masker = new Masker();
  try {
    if (!options.inventory.length) throw new UsageError("an inventory is required (-i PATH)");
    const inventory = loadInventory(options.inventory, await openSecretsStore(options.inventory));
    registerSecrets(masker, inventory);
    inventory.warnings.forEach((warning) => io.err(masker.mask(`rigger: warning: ${warning}`)));
    // Masked before it is serialized: JSON escapes quotes and newlines, and an escaped secret would not match.
    if (options.listInventory)
      return (io.out(JSON.stringify(masker.maskDeep(listInventory(inventory)), null, 2)), EXIT.ok);
    if (!options.playbook) throw new UsageError("a playbook is required");
    return await runPlaybook(options, inventory, masker, io);
  } catch (error) {
    const said =
      error instanceof UsageError
        ? usageSlip(error)
        : error instanceof ConfigError
          ? `rigger: configuration error: ${error.message}`
          : // Anything else (a role's own code, a template) never reaches a host unprinted-but-unmasked:
            // its message, and with -vv its stack, go through the masker like every other line.
            `rigger: error: ${options.verbosity >= 2 && error instanceof Error ? (error.stack ?? error.message) : String((error as Error)?.message ?? error)}`;
    io.err(masker.mask(said));
    writeEarlyOutcome(options, { exitCode: EXIT.config, error: said.replace(/^rigger: /, "") }, masker, io);
    return EXIT.config;
  }
}

async function runPlaybook(options: CliOptions, inventory: Inventory, masker: Masker, io: Io): Promise<number> {
  const playbookFile = options.playbook!;
  const playbook = await loadPlaybook(playbookFile);
  const { vars: extraVars, loose } = parseExtraVars(options.extraVars);
  secretStrings(extraVars).forEach((v) => masker.add(v));
  const listing = options.listHosts || options.listTasks || options.listTags;
  const prepare = () =>
    preparePlaybook(playbook, inventory, {
      playbookFile,
      extraVars,
      looseExtraVars: loose,
      limit: options.limit,
      masker,
      listing,
    });
  let { plays, warnings, generatedSecrets, secretSources, topology } = prepare();
  const hosts = [...new Set(plays.flatMap((p) => [...p.hosts.keys()]))];
  if (hosts.length === 0)
    throw new ConfigError(playbookFile, "hosts", noHostMatches(playbook, inventory, options.limit));
  // What is said before any connection is said by these too, as ansible-playbook's listings and --syntax-check do.
  if (listing || options.syntaxCheck) warnings.forEach((warning) => io.err(masker.mask(`rigger: warning: ${warning}`)));
  if (options.listHosts) return (listHosts(plays).forEach((line) => io.out(line)), EXIT.ok);
  if (options.listTasks) return (listTasks(plays, options).forEach((line) => io.out(masker.mask(line))), EXIT.ok);
  if (options.listTags) return (listTags(plays).forEach((line) => io.out(line)), EXIT.ok);
  const unknownTags = unknownTagsWarning(options, plays);
  if (unknownTags) return (io.err(`rigger: warning: ${unknownTags}`), EXIT.config);
  const strangers = options.breakLock.filter((host) => !hosts.includes(host));
  if (strangers.length)
    throw new UsageError(
      `--break-lock: ${strangers.join(", ")} ${strangers.length > 1 ? "are" : "is"} not a host of this run (${hosts.join(", ")})`,
    );
  checkOutputPaths(options);
  if (
    options.startAtTask &&
    !plays.some((p) =>
      [...p.hosts.values()].some((roles) => roles.some((r) => r.tasks.some((t) => t.name === options.startAtTask))),
    )
  )
    throw new UsageError(
      `--start-at-task: no task of the playbook is named "${options.startAtTask}" (--list-tasks lists them)`,
    );
  // Every host's connection settings are checked before the first connection; -u, --private-key,
  // -b, --become-user, --ssh-common-args and -K fill in what the inventory leaves unset, as in Ansible.
  const cliDefaults = {
    ...(options.user ? { ansible_user: options.user } : {}),
    ...(options.privateKey ? { ansible_ssh_private_key_file: options.privateKey } : {}),
    ...(options.become ? { ansible_become: true } : {}),
    ...(options.becomeUser ? { ansible_become_user: options.becomeUser } : {}),
    ...(options.sshCommonArgs ? { ansible_ssh_common_args: options.sshCommonArgs } : {}),
  };
  const settingsOf = (host: string, defaults: Record<string, unknown>) =>
    connectionVars(inventory.hosts.get(host)!, { ...defaults, ...inventory.hosts.get(host)!.vars, ...extraVars });
  // Everything a run checks before its first connection has passed, connection settings too (no password is asked for).
  if (options.syntaxCheck)
    return (
      hosts.forEach((h) => settingsOf(h, cliDefaults)),
      io.out(`playbook: ${playbookFile} (${plays.length} plays, ${hosts.length} hosts): syntax ok`),
      EXIT.ok
    );
  const becomePassword = options.askBecomePass
    ? await promptHidden("BECOME password: ", process.stdin, (t) => process.stderr.write(t))
    : undefined;
  masker.add(becomePassword);
  const withPassword =
    becomePassword !== undefined ? { ...cliDefaults, ansible_become_password: becomePassword } : cliDefaults;
  const connectionSettings = new Map(hosts.map((h) => [h, settingsOf(h, withPassword)]));

  const sshConfig = openSshConfig(options.sshConfig);
  // A secret the store lacks is read back from the hosts that may hold it before any is generated anew.
  let adopted: { adopted: Record<string, string>; notes: string[] } = { adopted: {}, notes: [] };
  if (secretSources.size) {
    // Hosts outside --limit that may hold a secret are read too: their settings, checked now.
    const readBackSettings = new Map(
      [...secretSources.keys()].map((h) => [h, connectionSettings.get(h) ?? settingsOf(h, withPassword)]),
    );
    try {
      adopted = await adoptSecrets(
        secretSources,
        (host) =>
          connect(host, readBackSettings.get(host)!, { ...options, check: true }, sshConfig, masker, () => undefined),
        options.forks,
      );
    } catch (error) {
      if (!(error instanceof UnreachableError)) throw error;
      const lacking = [...new Set([...secretSources.values()].flat().map((source) => source.name))].sort().join(", ");
      const said = `${error.message}: it may hold secrets that ${inventory.secrets.file} lacks (${lacking}); nothing was generated or changed: run again when it answers, or restore the store`;
      io.err(masker.mask(`rigger: ${said}`));
      const statuses = [...new Set([...hosts, ...secretSources.keys()])].map((host) => ({
        host,
        status: host === error.host ? "unreachable" : "untouched",
      }));
      writeEarlyOutcome(options, { exitCode: EXIT.unreachable, error: said, hosts: statuses }, masker, io);
      return EXIT.unreachable;
    }
    Object.values(adopted.adopted).forEach((value) => masker.add(value));
    inventory.secrets.remember(adopted.adopted);
    ({ plays, warnings, generatedSecrets } = prepare());
  }
  // Generated once, kept before any host sees them; a check run changes nothing, not even the store.
  const secretNotes = [
    ...adopted.notes,
    ...(options.check ? [] : await keepSecrets(inventory.secrets, { ...adopted.adopted, ...generatedSecrets })),
  ];
  // listr2 is loaded only for a terminal: a run in CI or cron does not pay for it.
  // With --json -, stdout is the report's: the run's lines go to stderr.
  const jsonToStdout = options.json === "-";
  const renderer: Renderer =
    io === stdio && process.stdout.isTTY && !process.env.CI && !options.diff && !jsonToStdout
      ? new (await import("./tree.js")).TreeRenderer(hosts, masker, options.verbosity, options.output)
      : new LineRenderer(jsonToStdout ? io.err : io.out, masker, options.verbosity, options.diff, options.output);
  const events: RunEvent[] = [];
  const emit = (event: RunEvent) => {
    events.push(event);
    renderer.event(event);
  };
  [...secretNotes, ...warnings, ...connectionWarnings(hosts.map((h) => inventory.hosts.get(h)!))].forEach((message) =>
    emit({ type: "warning", message }),
  );
  const started = Date.now();
  await runPlays(plays, {
    check: options.check,
    diff: options.diff,
    forks: options.forks,
    tags: options.tags,
    skipTags: options.skipTags,
    forceHandlers: options.forceHandlers,
    startAtTask: options.startAtTask,
    holdsSecret: (text) => masker.holdsSecret(text),
    emit,
    connect: (host) =>
      connect(host, connectionSettings.get(host)!, options, sshConfig, masker, (message) =>
        emit({ type: "warning", message }),
      ),
  });
  const summary = await renderer.finish(events);
  const exitCode = summary.some((h) => h.status === "unreachable")
    ? EXIT.unreachable
    : summary.some((h) => h.status === "failed")
      ? EXIT.failed
      : options.failOnChange && summary.some((h) => h.changed > 0)
        ? EXIT.drift
        : EXIT.ok;
  // The hosts are done: a report that cannot be written now (a full disk) is said, and the run's exit code stands.
  const reportOrSay = (what: string, write: () => void) => {
    try {
      write();
    } catch (error) {
      io.err(masker.mask(`rigger: the ${what} could not be written: ${(error as Error).message}`));
    }
  };
  if (options.report)
    reportOrSay("evidence report", () => {
      const written = writeEvidenceReport(
        options.report!,
        { playbook: playbookFile, inventory: inventory.source, at: new Date().toISOString(), exitCode },
        events,
        masker,
        hosts.map((host) => ({ host, ...topology.get(host)! })),
      );
      (options.json === "-" ? io.err : io.out)(
        `evidence report: ${written.markdown}, ${written.html} and ${written.json}`,
      );
    });
  if (options.metrics)
    reportOrSay("metrics file", () =>
      writeMetricsFile(options.metrics!, {
        playbook: playbookFile,
        check: options.check,
        exitCode,
        endedAt: Date.now() / 1000,
        seconds: (Date.now() - started) / 1000,
        hosts: summary,
        ...fromEvents(events),
      }),
    );
  if (options.json)
    reportOrSay("JSON report", () => {
      writeJsonReport(
        options.json!,
        {
          rigger: version(),
          playbook: playbookFile,
          check: options.check,
          ms: Date.now() - started,
          exitCode,
          hosts: summary,
          events,
        },
        masker,
        io,
      );
    });
  return exitCode;
}

/** A slip in the command line: one line, where the full usage would scroll it away. */
const usageSlip = (error: UsageError) => `rigger: ${error.message} (rigger --help lists every option)`;

async function loadPlaybook(file: string): Promise<Playbook> {
  if (!existsSync(file)) throw new UsageError(`no playbook at ${file}`);
  const module = (await importPlaybook(file)) as { default?: Playbook };
  if (!module.default || !Array.isArray(module.default.plays))
    throw new ConfigError(file, "default", "expected `export default definePlaybook([...])`");
  return module.default;
}

async function secrets(argv: string[], io: Io): Promise<number> {
  try {
    await secretsCommand(argv, io.out);
    return EXIT.ok;
  } catch (error) {
    if (error instanceof ConfigError || (error as NodeJS.ErrnoException).code?.startsWith("ERR_PARSE_ARGS"))
      return (io.err(`rigger secrets: ${(error as Error).message}`), EXIT.config);
    throw error;
  }
}

function registerSecrets(masker: Masker, inventory: Inventory): void {
  inventory.secretValues.forEach((v) => masker.add(v));
  for (const host of inventory.hosts.values()) {
    refuseShortSecrets(host.vars, host.name, (key) => host.origins[key] ?? inventory.source);
    secretStrings(host.vars).forEach((value) => masker.add(value));
  }
}
