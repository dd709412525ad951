/** A port (or an inclusive range) that a role needs open to the outside. */
export interface PortRule {
  protocol: "tcp" | "udp";
  port: number | [number, number];
  /** Who needs it, shown in the ruleset. */
  comment?: string;
  /** Only these addresses (or CIDR ranges) may connect; unset: everyone. */
  sources?: string[];
}

/** A port rule's port as nftables writes it (`80`, `50000-50100`). */
export const portText = (rule: PortRule, rangeSeparator = "-") =>
  Array.isArray(rule.port) ? `${rule.port[0]}${rangeSeparator}${rule.port[1]}` : String(rule.port);

const covers = (rule: PortRule, protocol: string, port: number) =>
  rule.protocol === protocol &&
  (Array.isArray(rule.port) ? port >= rule.port[0] && port <= rule.port[1] : rule.port === port);

/** The rules to open: SSH first, always, then the rest without duplicates, in a stable order. */
export function firewallRules(sshPort: number, rules: PortRule[]): PortRule[] {
  const ssh: PortRule = { protocol: "tcp", port: sshPort, comment: "ssh" };
  const seen = new Set([`tcp/${sshPort}`]);
  return [
    ssh,
    ...rules.filter((rule) => {
      const key = `${rule.protocol}/${portText(rule)}/${rule.sources?.join(",") ?? "*"}`;
      return seen.has(key) ? false : (seen.add(key), true);
    }),
  ];
}

/** The rules for a task's name, SSH first: its port, or `ssh` where the host will tell it. */
export const rulesText = (sshPort: number | undefined, rules: PortRule[], rangeSeparator = "-") =>
  [
    sshPort ? `${sshPort}/tcp` : "ssh",
    ...firewallRules(sshPort ?? 0, rules)
      .slice(1)
      .map((r) => `${portText(r, rangeSeparator)}/${r.protocol}`),
  ].join(" ");

/** Whether some rule opens this port. */
export const isOpen = (rules: PortRule[], protocol: string, port: number) =>
  rules.some((rule) => covers(rule, protocol, port));
