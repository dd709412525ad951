import {
  apt,
  check,
  defineRole,
  directory,
  nftablesFirewall,
  nftablesRulesetPath,
  portText,
  service,
  SSH_SERVED_PORT_SHELL,
  ufwFirewall,
  unitFile,
} from "../../src/rigger.js";
import { firewallVars } from "./vars.js";

const BOOT_UNIT = `[Unit]
Description=rigger's firewall table
Wants=network-pre.target
Before=network-pre.target

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/usr/sbin/nft -f ${nftablesRulesetPath()}

[Install]
WantedBy=multi-user.target
`;

/** The host firewall: every port the play's roles declare, plus extra rules, SSH first and always. */
export default defineRole({
  name: "firewall",
  vars: firewallVars,
  tasks: (vars, host) => {
    const rules = [...host.ports, ...vars.firewall_extra_rules];
    const limited = rules.filter((rule) => rule.sources);
    if (vars.firewall_backend === "ufw" && limited.length)
      throw new Error(
        `firewall_backend ufw cannot open ${limited.map((r) => `${portText(r)}/${r.protocol}`).join(", ")} to some addresses only ` +
          "(ufw does not filter ports Docker publishes): use firewall_backend nftables",
      );
    if (vars.firewall_backend === "ufw")
      return [apt({ packages: ["ufw"] }), ufwFirewall({ sshPort: vars.firewall_ssh_port, rules })];
    return [
      apt({ packages: ["nftables"] }),
      directory({ path: "/etc/rigger", mode: 0o700 }),
      nftablesFirewall({ sshPort: vars.firewall_ssh_port, rules, rollbackSeconds: vars.firewall_rollback_seconds }),
      unitFile({ unit: "rigger-firewall.service", content: BOOT_UNIT }),
      service({ unit: "rigger-firewall.service", enabled: true }),
    ];
  },
  verify: (vars) => {
    // The port the tasks opened: the role's variable, else the one sshd serves this run on.
    const port = vars.firewall_ssh_port ?? SSH_SERVED_PORT_SHELL;
    return [
      vars.firewall_backend === "ufw"
        ? check({
            name: "ufw is active with SSH open",
            command: `ufw status | grep -q '^Status: active' && ufw status | grep -Eq "^${port}/tcp +ALLOW" && ufw status`,
            failure: "ufw is not active, or SSH is not open",
          })
        : check({
            name: "the rigger table drops by default and lets SSH in",
            command: `nft list chain inet rigger input | grep -q 'policy drop' && nft list chain inet rigger input | grep -q "tcp dport ${port} accept" && nft list chain inet rigger input | grep -E 'policy|dport'`,
            failure: "the table inet rigger is missing, not dropping by default, or without the SSH rule",
          }),
    ];
  },
});
