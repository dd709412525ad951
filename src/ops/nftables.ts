import { defineFact } from "../facts/fact.js";
import { fileFact } from "../facts/file.js";
import { publishedPortsFact, type PublishedPort } from "../facts/docker.js";
import { sshServedPortFact } from "../facts/ssh-port.js";
import { sha256Hex } from "../common/hash.js";
import { sh } from "../common/shell.js";
import { firewallRules, isOpen, portText, rulesText, type PortRule } from "../common/ports.js";
import { operation, taskOptions, type Operation, type TaskOptions } from "./operation.js";

export interface NftablesArgs extends TaskOptions {
  /** Our own table: other tables are never touched. */
  table?: string;
  /** Unset: the port sshd serves this run on, as the host sees it. */
  sshPort?: number;
  rules: PortRule[];
  /** Seconds after which the host restores the previous rules unless a new SSH connection succeeded. */
  rollbackSeconds: number;
}

const DIR = "/etc/rigger";
const STATE = "/var/lib/rigger";

/** Where a table's confirmed ruleset is kept (what a boot unit loads). */
export const nftablesRulesetPath = (table = "rigger") => `${DIR}/firewall-${table}.nft`;

/** A rule's sources by address family, as nftables sets (`{ 10.0.0.1, 10.0.0.2 }`). */
function sourceSets(rule: PortRule): Array<[family: "ip" | "ip6", set: string]> {
  const sources = rule.sources ?? [];
  const v6 = sources.filter((s) => s.includes(":"));
  const v4 = sources.filter((s) => !s.includes(":"));
  return (
    [
      ["ip", v4],
      ["ip6", v6],
    ] as const
  )
    .filter(([, list]) => list.length)
    .map(([family, list]) => [family, `{ ${list.join(", ")} }`]);
}

const commented = (rule: PortRule, line: string) =>
  `    ${line}${rule.comment ? ` comment ${JSON.stringify(rule.comment)}` : ""}`;

function inputLines(rule: PortRule): string[] {
  const accept = `${rule.protocol} dport ${portText(rule)} accept`;
  if (!rule.sources) return [commented(rule, accept)];
  return sourceSets(rule).map(([family, set]) => commented(rule, `${family} saddr ${set} ${accept}`));
}

/**
 * A port Docker publishes is DNATed before the input chain ever sees it, so a rule with sources
 * is enforced again where that traffic passes: forwarded connections whose original destination
 * was this port are let through from the sources and dropped from anyone else.
 */
function publishedLines(rule: PortRule): string[] {
  if (!rule.sources) return [];
  const match = `ct direction original ct status dnat meta l4proto ${rule.protocol} ct original proto-dst ${portText(rule)}`;
  return [
    ...sourceSets(rule).map(([family, set]) => commented(rule, `${match} ${family} saddr ${set} accept`)),
    commented(rule, `${match} drop`),
  ];
}

/** The ruleset file: replaces our table in one transaction (create, delete, define). */
export function nftablesRuleset(table: string, rules: PortRule[]): string {
  const published = rules.flatMap(publishedLines);
  return [
    "#!/usr/sbin/nft -f",
    "# Managed by rigger. Only this table is rigger's; other tables are left alone.",
    `table inet ${table}`,
    `delete table inet ${table}`,
    `table inet ${table} {`,
    "  chain input {",
    "    type filter hook input priority filter; policy drop;",
    '    iif "lo" accept',
    "    ct state established,related accept",
    "    ct state invalid drop",
    "    meta l4proto { icmp, ipv6-icmp } accept",
    ...rules.flatMap(inputLines),
    "  }",
    ...(published.length
      ? [
          "  # Docker-published ports open to some addresses only; any other forwarded traffic is left to Docker.",
          "  chain published {",
          "    type filter hook forward priority filter - 1; policy accept;",
          ...published,
          "  }",
        ]
      : []),
    "}",
    "",
  ].join("\n");
}

/** The checksum of the live table, as the fact reads it and as it is recorded once confirmed. */
const liveTableHash = (table: string) => sh`nft list table inet ${table} 2>/dev/null | sha256sum | cut -c1-64`;
const appliedHashFile = (table: string) => `${STATE}/firewall-${table}.applied`;
/** The live table's checksum right after the new rules went live: what the undo timer would change. */
const expectedHashFile = (table: string) => `${STATE}/firewall-${table}.expected`;

/** The live table's checksum and the one recorded when rigger last applied it. */
function liveTableFact(table: string) {
  return defineFact(
    `nft-table:${table}`,
    `${liveTableHash(table)}; ${sh`cat ${appliedHashFile(table)} 2>/dev/null`}`,
    (stdout) => {
      const [live, applied] = stdout.trim().split("\n");
      return { live, applied };
    },
  );
}

function unprotected(published: PublishedPort[], rules: PortRule[]): string[] {
  const everywhere = published.filter(
    (p) => ["0.0.0.0", "::", ""].includes(p.hostIp) && !isOpen(rules, p.protocol, p.hostPort),
  );
  const byContainer = new Map<string, string[]>();
  for (const p of everywhere)
    byContainer.set(p.container, [...(byContainer.get(p.container) ?? []), `${p.hostPort}/${p.protocol}`]);
  return [...byContainer].map(
    ([container, ports]) =>
      `container ${container} publishes ${[...new Set(ports)].join(", ")} on all addresses, which the firewall does not open; ` +
      "Docker-published ports bypass the host firewall: bind them to 127.0.0.1 or open them on purpose",
  );
}

/**
 * The host firewall as one nftables table of our own, loaded atomically, guarded against lock-out:
 * the new rules go live with an undo armed on the host, and stay only once a new SSH connection
 * has succeeded through them.
 * @example nftablesFirewall({ table: "rigger", rules: context.ports, rollbackSeconds: 30 })
 */
export function nftablesFirewall(args: NftablesArgs): Operation {
  const table = args.table ?? "rigger";
  const persisted = nftablesRulesetPath(table);
  const candidate = `${DIR}/firewall-${table}.candidate.nft`;
  const rollback = `${STATE}/firewall-${table}.rollback.nft`;
  const unit = `rigger-firewall-rollback-${table}`;
  return operation({
    name: args.name ?? `nftables table ${table}: ${rulesText(args.sshPort, args.rules)}`,
    facts: {
      file: fileFact(persisted),
      table: liveTableFact(table),
      published: publishedPortsFact,
      sshPort: sshServedPortFact,
    },
    warnings: ({ published, sshPort }) => unprotected(published, firewallRules(args.sshPort ?? sshPort, args.rules)),
    plan: ({ file, table: live, sshPort }) => {
      const ruleset = nftablesRuleset(table, firewallRules(args.sshPort ?? sshPort, args.rules));
      const sha256 = sha256Hex(ruleset);
      if (file.sha256 === sha256 && file.mode === 0o600 && live.live === live.applied) return [];
      return [
        {
          kind: "write",
          path: candidate,
          content: ruleset,
          mode: 0o600,
          owner: "root",
          group: "root",
          validate: "nft -c -f %s",
        },
        {
          kind: "guarded",
          what: `the firewall rules of table inet ${table}`,
          rollbackSeconds: args.rollbackSeconds,
          arm: [
            sh`install -d -m 700 ${STATE}`,
            sh`systemctl stop ${`${unit}.timer`} 2>/dev/null; systemctl reset-failed ${`${unit}.service`} 2>/dev/null`,
            sh`{ printf 'table inet %s\\ndelete table inet %s\\n' ${table} ${table}; nft list table inet ${table} 2>/dev/null; } > ${rollback}`,
            // A timer's default accuracy is a minute: the undo must come when it was promised.
            sh`systemd-run --quiet --unit=${unit} --on-active=${args.rollbackSeconds} --timer-property=AccuracySec=1s /usr/sbin/nft -f ${rollback}`,
          ].join("; "),
          apply: `${sh`nft -f ${candidate}`} && ${liveTableHash(table)} > ${sh`${expectedHashFile(table)}`}`,
          // The timer may have fired just before it was stopped: then the old rules are live again,
          // and that is recorded (the next run applies anew) and said, not taken for success.
          cancel: [
            // A timer that fired is gone: nothing to stop, and the checksum below tells what happened.
            sh`{ ! systemctl is-active --quiet ${`${unit}.timer`} || systemctl stop ${`${unit}.timer`}; }`,
            `live=$(${liveTableHash(table)})`,
            sh`echo "$live" > ${appliedHashFile(table)}`,
            sh`expected=$(cat ${expectedHashFile(table)})`,
            `if [ "$live" != "$expected" ]; then echo "the undo timer fired before it was stopped: the previous rules are live again; run again to apply the new ones" >&2; exit 1; fi`,
            sh`mv -f ${candidate} ${persisted}`,
          ].join(" && "),
        },
      ];
    },
    ...taskOptions(args),
  });
}
