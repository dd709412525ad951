import { homedir } from "node:os";
import { join } from "node:path";
import { parseArgs, type ParseArgsConfig } from "node:util";
import { likelyMeant } from "../inventory/near-miss.js";

export interface CliOptions {
  playbook?: string;
  /** Every -i, merged in order. */
  inventory: string[];
  check: boolean;
  diff: boolean;
  limit?: string;
  tags?: string[];
  skipTags?: string[];
  extraVars: string[];
  forks: number;
  /** Seconds for a host's TCP connect and SSH handshake (Ansible's -T). */
  timeout?: number;
  /** Hosts whose lock a vanished run left behind: its holder is ended, then the lock taken. */
  breakLock: string[];
  json?: string;
  metrics?: string;
  /** A folder for the evidence report (report.html, report.md, report.json) of the run's checks. */
  report?: string;
  verbosity: number;
  failOnChange: boolean;
  forceHandlers: boolean;
  acceptNewHostKeys: boolean;
  sshConfig: string;
  listInventory: boolean;
  listHosts: boolean;
  listTasks: boolean;
  listTags: boolean;
  /** Validate everything that can be known before connecting, then stop (ansible-playbook --syntax-check). */
  syntaxCheck: boolean;
  /** The recap's form: rigger's table, or ansible-playbook's PLAY RECAP lines. */
  output: "table" | "ansible";
  startAtTask?: string;
  /** Connection defaults for hosts whose inventory sets none (Ansible's -u, --private-key, -b, -K). */
  user?: string;
  privateKey?: string;
  become: boolean;
  becomeUser?: string;
  sshCommonArgs?: string;
  askBecomePass: boolean;
  help: boolean;
  version: boolean;
}

export class UsageError extends Error {}

export const USAGE = `usage: npx tsx run <playbook.ts> -i <inventory> [options]
       npx tsx run --list-inventory -i <inventory>
       npx tsx run secrets <list|show|set|rotate|encrypt|...> -i <inventory>   (secrets --help)

  -i, --inventory PATH      a hosts file (YAML or INI), a folder holding one, or host1,host2,
                            (repeatable: merged in order, later ones winning)
  -C, --check               report what would change; change nothing
  -D, --diff                show file changes line by line (secrets masked)
  -l, --limit PATTERN       only these hosts: names, groups, globs, !exclusions
  -t, --tags LIST           only tasks with one of these tags (comma-separated): a role's name, or a tag a task adds
      --skip-tags LIST      no task with one of these tags
  -e, --extra-vars K=V|@FILE  variables of the highest precedence (repeatable)
  -f, --forks N             hosts worked on at once (default 10)
  -T, --timeout SECONDS     connect timeout: TCP and the SSH handshake (default 10)
      --break-lock HOST     end the run that holds HOST's lock (one that vanished), then go on (repeatable)
      --json FILE           write a JSON report of the run (- : to stdout, the run's lines then go to stderr)
      --report DIR          write the evidence report of the run's checks (report.html, .md, .json)
      --metrics FILE        write the run's outcome as Prometheus metrics (node_exporter's textfile collector), for cron
  -v, -vv                   more detail: round trips per host; the commands of each change
      --fail-on-change      with --check: exit 3 when anything would change
      --force-handlers      run notified handlers even when a later task of the host fails
      --accept-new-host-keys  record the key of a host not yet in known_hosts
      --ssh-config FILE     OpenSSH client config for host aliases (default ~/.ssh/config)
      --list-inventory      print the merged inventory as ansible-inventory --list does
      --list-hosts          print the hosts each play would touch; connect to none
      --list-tasks          print each play's roles and tasks; connect to none
      --list-tags           print each play's tags (every task has its role's name); connect to none
      --syntax-check        check inventory, variables and playbook (every task built); connect to none
  -o, --output FORMAT       the recap as rigger's table (default) or ansible's PLAY RECAP lines (ansible)
      --start-at-task NAME  skip every task before the first one named NAME
  -u, --user USER           log in as USER where the inventory sets no ansible_user
      --private-key FILE    the key file where the inventory sets none
  -b, --become              become root (sudo) where the inventory does not say otherwise
      --become-user USER    become USER rather than root where the inventory sets no ansible_become_user
      --ssh-common-args ARGS  -J/-o ProxyJump= where the inventory sets no ansible_ssh_common_args
  -K, --ask-become-pass     ask for the sudo password on the terminal (not echoed)
  -h, --help                this text
      --version             rigger's version

exit codes: 0 ok, 1 usage or configuration error, 2 a task failed, 3 drift (--check --fail-on-change),
            4 a host unreachable`;

const list = (value: string | undefined) =>
  value
    ?.split(",")
    .map((t) => t.trim())
    .filter(Boolean);

/** The command line's options, as node's parseArgs reads them. */
const OPTIONS = {
  inventory: { type: "string", short: "i", multiple: true, default: [] as string[] },
  check: { type: "boolean", short: "C", default: false },
  diff: { type: "boolean", short: "D", default: false },
  limit: { type: "string", short: "l" },
  tags: { type: "string", short: "t" },
  "skip-tags": { type: "string" },
  "extra-vars": { type: "string", short: "e", multiple: true, default: [] as string[] },
  forks: { type: "string", short: "f", default: "10" },
  timeout: { type: "string", short: "T" },
  "break-lock": { type: "string", multiple: true, default: [] as string[] },
  json: { type: "string" },
  report: { type: "string" },
  metrics: { type: "string" },
  verbose: { type: "boolean", short: "v", multiple: true, default: [] as boolean[] },
  "fail-on-change": { type: "boolean", default: false },
  "force-handlers": { type: "boolean", default: false },
  "accept-new-host-keys": { type: "boolean", default: false },
  "ssh-config": { type: "string", default: join(homedir(), ".ssh", "config") },
  "list-inventory": { type: "boolean", default: false },
  "list-hosts": { type: "boolean", default: false },
  "list-tasks": { type: "boolean", default: false },
  "list-tags": { type: "boolean", default: false },
  "syntax-check": { type: "boolean", default: false },
  output: { type: "string", short: "o", default: "table" },
  "start-at-task": { type: "string" },
  user: { type: "string", short: "u" },
  "private-key": { type: "string" },
  become: { type: "boolean", short: "b", default: false },
  "become-user": { type: "string" },
  "ssh-common-args": { type: "string" },
  "ask-become-pass": { type: "boolean", short: "K", default: false },
  help: { type: "boolean", short: "h", default: false },
  version: { type: "boolean", default: false },
} satisfies ParseArgsConfig["options"];

/** MDAD's tags: its install-and-start phases are what every rigger run does; its self-check is verify.ts. */
function withMdadTags(tags: string[] | undefined): string[] | undefined {
  if (tags?.includes("self-check"))
    throw new UsageError(
      "-t self-check: MDAD's self-check is rigger's verify.ts, which proves every service with its evidence: npx tsx run playbooks/verify.ts -i <inventory> (-e call_probe=true for a real call)",
    );
  const rest = tags?.filter((tag) => !["setup-all", "install-all", "start"].includes(tag));
  return rest?.length ? rest : undefined;
}

/** `--ssh-common-args -o ...`: a value that starts with a dash by nature is the next word, as Ansible takes it. */
const withDashedValues = (argv: string[]): string[] =>
  argv.flatMap((arg, i) =>
    argv[i - 1] === "--ssh-common-args"
      ? []
      : arg === "--ssh-common-args" && i + 1 < argv.length
        ? [`${arg}=${argv[i + 1]}`]
        : [arg],
  );

export function parseCli(argv: string[]): CliOptions {
  let parsed;
  try {
    parsed = parseArgs({
      args: withDashedValues(argv),
      allowPositionals: true,
      strict: true,
      options: OPTIONS,
    });
  } catch (error) {
    // node's message for an unknown option goes on about positionals; its first sentence is the point.
    const said = (error as Error).message.split(". ")[0]!;
    const unknown = /^Unknown option '--([^']+)'/.exec(said)?.[1];
    const meant = unknown && likelyMeant(unknown, Object.keys(OPTIONS));
    throw new UsageError(meant ? `${said}; did you mean --${meant}?` : said);
  }
  const { values, positionals } = parsed;
  if (positionals.length > 1) throw new UsageError(`one playbook at a time, got ${positionals.join(" ")}`);
  const forks = Number(values.forks);
  if (!Number.isInteger(forks) || forks < 1)
    throw new UsageError(`--forks expects a positive integer, got "${values.forks}"`);
  const timeout = values.timeout === undefined ? undefined : Number(values.timeout);
  if (timeout !== undefined && !(Number.isInteger(timeout) && timeout >= 1))
    throw new UsageError(`--timeout expects whole seconds (1 or more), got "${values.timeout}"`);
  if (values["break-lock"].length && values.check)
    throw new UsageError("--break-lock goes with a run that changes hosts (a --check run takes no lock)");
  if (values["fail-on-change"] && !values.check) throw new UsageError("--fail-on-change goes with --check");
  if (!["table", "ansible"].includes(values.output))
    throw new UsageError(`--output expects table or ansible, got "${values.output}"`);
  return {
    playbook: positionals[0],
    inventory: values.inventory,
    check: values.check,
    diff: values.diff,
    limit: values.limit,
    tags: withMdadTags(list(values.tags)),
    skipTags: list(values["skip-tags"]),
    extraVars: values["extra-vars"],
    forks,
    timeout,
    breakLock: values["break-lock"],
    json: values.json,
    report: values.report,
    metrics: values.metrics,
    verbosity: values.verbose.length,
    failOnChange: values["fail-on-change"],
    forceHandlers: values["force-handlers"],
    acceptNewHostKeys: values["accept-new-host-keys"],
    sshConfig: values["ssh-config"],
    listInventory: values["list-inventory"],
    listHosts: values["list-hosts"],
    listTasks: values["list-tasks"],
    listTags: values["list-tags"],
    syntaxCheck: values["syntax-check"],
    output: values.output as "table" | "ansible",
    startAtTask: values["start-at-task"],
    user: values.user,
    privateKey: values["private-key"],
    become: values.become,
    becomeUser: values["become-user"],
    sshCommonArgs: values["ssh-common-args"],
    askBecomePass: values["ask-become-pass"],
    help: values.help,
    version: values.version,
  };
}
