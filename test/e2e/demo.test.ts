import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { SshConnection } from "../../src/connection/ssh.js";
import { GENERAL_HOSTS, notOk, rigger, testInventory } from "../helpers/rigger.js";
import { describeHosts } from "../testbed/testbed.js";

const SECRET = "d3mo-t0ken-which-must-never-be-printed-7f3a";
const PLAYBOOK = "playbooks/demo.ts";

/** What a host is: files under /etc, /srv and /var/lib (mode, owner, size, mtime, checksum), packages, services, sysctl. */
const SNAPSHOT = [
  "find /etc /srv /var/lib /var/backups -xdev -path /var/lib/apt/lists -prune -o \\( -type f -o -type d -o -type l \\) -printf '%p %m %u %g %s %T@\\n' | sort | sha256sum",
  "find /etc /srv -xdev -type f -exec sha256sum {} + | sort | sha256sum",
  "dpkg-query -W -f='${Package} ${Version} ${db:Status-Abbrev}\\n' | sha256sum",
  "systemctl list-units --type=service --all --no-legend --plain | grep -v -e '^user' | awk '{print $1, $3, $4}' | sort",
  "systemctl list-unit-files --type=service --no-legend | awk '{print $1, $2}' | sort | sha256sum",
  "sysctl -n net.ipv4.tcp_keepalive_time",
].join("\n");

describeHosts("demo playbook on three hosts", (testbed) => {
  let inventory: string;
  const connections = new Map<string, SshConnection>();
  const on = (host: string) => connections.get(host)!;
  const snapshot = () =>
    Promise.all(
      GENERAL_HOSTS.map((name) =>
        on(name)
          .exec(SNAPSHOT)
          .then((r) => r.stdout),
      ),
    );

  beforeAll(async () => {
    inventory = testInventory({
      "group_vars/all.yaml": "demo_api_token: !secret demo_api_token\n",
      "secrets.yaml": `demo_api_token: ${SECRET}\n`,
    });
    for (const name of GENERAL_HOSTS) {
      const connection = await SshConnection.open(testbed().target(name));
      connections.set(name, connection);
      // From bare: nothing of the demo, and no curl.
      await connection.exec(
        "systemctl disable --now demo-web.service 2>/dev/null; rm -rf /etc/demo /srv/demo /etc/systemd/system/demo-web.service /var/lib/demo-initialized /etc/sysctl.d/90-rigger-* /var/backups/rigger; systemctl daemon-reload; sysctl -qw net.ipv4.tcp_keepalive_time=7200; dpkg -r curl >/dev/null 2>&1; true",
      );
    }
  });
  afterAll(() => connections.forEach((c) => c.close()));

  it("converges all hosts on the first run, and changes nothing on the second", async () => {
    const first = await rigger(PLAYBOOK, "-i", inventory);
    expect(first.err).toBe("");
    expect(first.code).toBe(0);
    for (const name of GENERAL_HOSTS) {
      expect(first.out).toContain(`[${name}] demo | apt present curl: changed`);
      expect(first.out).toContain(`[${name}] demo | handler: restart demo-web: changed`);
    }
    const page = await on("th2").exec("curl -s http://127.0.0.1:8080/");
    expect(page.stdout).toContain("hello from rigger: th2");
    const config = await on("th1").exec("stat -c '%a %U' /etc/demo/demo.conf; sysctl -n net.ipv4.tcp_keepalive_time");
    expect(config.stdout).toBe("600 root\n600\n");

    const second = await rigger(PLAYBOOK, "-i", inventory, "-v");
    expect(second.code).toBe(0);
    expect(notOk(second.out)).toEqual([]);
    // One round trip: the facts, and the HTTP wait tried once, read together.
    expect(second.out).toMatch(/th1\s+11\s+0\s+0\s+0\s+0\s+1\s/);
  });

  it("in check mode on converged hosts reports nothing and leaves every file, package and service as it was", async () => {
    const before = await snapshot();
    const check = await rigger(PLAYBOOK, "-i", inventory, "--check", "--fail-on-change");
    expect(check.code).toBe(0);
    expect(notOk(check.out)).toEqual([]);
    expect(await snapshot()).toEqual(before);
  });

  it("finds hand-made drift in check mode, without touching it, then fixes exactly that", async () => {
    await on("th2").exec(
      "sed -i 's/^API_TOKEN=.*/API_TOKEN=edited-by-hand/' /etc/demo/demo.conf; echo PORT=9999 >> /etc/demo/demo.conf; chmod 0600 /etc/demo/motd; systemctl stop demo-web.service",
    );
    const before = await snapshot();
    const report = join(inventory, "report.json");

    const check = await rigger(
      PLAYBOOK,
      "-i",
      inventory,
      "--check",
      "--diff",
      "--fail-on-change",
      "-vv",
      "--json",
      report,
    );
    expect(check.code).toBe(3);
    const drifted = ["template /etc/demo/demo.conf", "file /etc/demo/motd", "service demo-web.service"];
    expect(notOk(check.out)).toEqual([
      ...drifted.map((t) => `[th2] demo | ${t}: would change`),
      "[th2] demo | handler: restart demo-web: would run",
    ]);
    // The file holds a secret: its old lines are not shown (one may hold a secret since rotated away).
    expect(check.out).toContain("    -********\n    -********\n    +API_TOKEN=********");
    expect(check.out).not.toContain("edited-by-hand");
    expect(check.out).toContain("    $ chmod 0644 /etc/demo/motd");
    expect(await snapshot()).toEqual(before);

    const fix = await rigger(PLAYBOOK, "-i", inventory, "--diff", "-vv", "--json", report);
    expect(fix.code).toBe(0);
    expect(notOk(fix.out)).toEqual([...drifted, "handler: restart demo-web"].map((t) => `[th2] demo | ${t}: changed`));
    const state = await on("th2").exec(
      "grep -c 9999 /etc/demo/demo.conf; stat -c %a /etc/demo/motd; systemctl is-active demo-web.service; ls /var/backups/rigger",
    );
    expect(state.stdout).toMatch(/^0\n644\nactive\netc__demo__demo\.conf\.\d{8}T\d+\n$/);

    // Every byte printed, and the report, at -vv with --diff: the secret is in none of them.
    for (const text of [check.out, check.err, fix.out, fix.err, readFileSync(report, "utf8")])
      expect(text).not.toContain(SECRET);
    expect(fix.out).toContain("API_TOKEN=********");
    expect(JSON.parse(readFileSync(report, "utf8")).hosts).toContainEqual(
      expect.objectContaining({ host: "th2", changed: 4, failed: 0 }),
    );
  });

  it("never prints a secret holding quotes, a dollar, a newline and spaces, in any output, diff or report", async () => {
    const awkward = `it's "the $ecret"\nsecond line; rm -rf / ${"`"}x${"`"}`;
    const special = testInventory({
      "group_vars/all.yaml": "demo_api_token: !secret demo_api_token\n",
      "secrets.yaml": `demo_api_token: ${JSON.stringify(awkward)}\n`,
    });
    const report = join(special, "report.json");
    const runs = [
      await rigger(PLAYBOOK, "-i", special, "--limit", "th1", "--check", "--diff", "-vv"),
      await rigger(PLAYBOOK, "-i", special, "--limit", "th1", "--diff", "-vv", "--json", report),
      await rigger("--list-inventory", "-i", special),
    ];
    expect(runs[1]!.code).toBe(0);
    // The host got it exactly, by file content.
    expect((await on("th1").exec("sed -n '/^API_TOKEN=/,$p' /etc/demo/demo.conf")).stdout).toBe(
      `API_TOKEN=${awkward}\n`,
    );
    const printed = [...runs.flatMap((r) => [r.out, r.err]), readFileSync(report, "utf8")].join("\n");
    for (const fragment of [awkward, ...awkward.split("\n"), JSON.stringify(awkward).slice(1, -1)])
      expect(printed).not.toContain(fragment);
    expect(printed).toContain("+API_TOKEN=********");
  });
});
