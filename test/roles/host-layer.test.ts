import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { SshConnection } from "../../src/connection/ssh.js";
import { probePorts } from "../helpers/ports.js";
import { notOk, rigger, testInventory } from "../helpers/rigger.js";
import { describeHosts, pushTestImage } from "../testbed/testbed.js";

const HOST_LAYER = "test/roles/fixtures/host-layer.ts";
const CONTAINERS = "test/roles/fixtures/containers.ts";

describeHosts("roles docker, kernel and firewall on a bare host", (testbed) => {
  let inventory: string;
  let image: string;
  const connections = new Map<string, SshConnection>();
  const on = (host: string) => connections.get(host)!;
  const ip = (host: string) => testbed().hosts.find((h) => h.name === host)!.ip;
  const containerIds = async () =>
    (await on("th1").exec("docker ps -aq --no-trunc --filter name=web- --format '{{.Names}} {{.ID}}' | sort")).stdout;

  beforeAll(async () => {
    image = await pushTestImage("rigger/busybox:1");
    inventory = testInventory({
      "group_vars/all.yaml": `docker_daemon_options:\n  insecure-registries: ["172.30.0.1:5000"]\nfirewall_rollback_seconds: 15\nweb_image: ${image}\n`,
    });
    for (const host of ["th1", "th2", "th3"]) connections.set(host, await SshConnection.open(testbed().target(host)));
  });
  afterAll(async () => {
    // Leave the hosts open for the suites after this one.
    for (const host of ["th1", "th3"])
      await on(host).exec(
        "nft delete table inet rigger 2>/dev/null; ufw --force disable >/dev/null 2>&1; docker rm -f web-a web-b web-broken >/dev/null 2>&1; true",
      );
    connections.forEach((c) => c.close());
  });

  it("converges a host without Docker; the second run changes nothing; check mode finds nothing", async () => {
    expect((await on("th1").exec("command -v docker")).code).not.toBe(0);
    // Check mode on the bare host: drift, including the service of a package not installed yet.
    const bare = await rigger(HOST_LAYER, "-i", inventory, "--limit", "th1", "--check", "--fail-on-change");
    expect(bare.code).toBe(3);
    expect(bare.out).toContain("[th1] docker | service docker.service: would change");
    expect(bare.out).not.toMatch(/: failed/);
    expect((await on("th1").exec("command -v docker")).code).not.toBe(0);
    const first = await rigger(HOST_LAYER, "-i", inventory, "--limit", "th1");
    expect(first.code).toBe(0);
    expect(first.out).toContain("[th1] docker | apt present docker.io curl: changed");
    expect(first.out).toContain(
      "[th1] firewall | nftables table rigger: ssh 7881/tcp 7882/udp 50000-50100/udp: changed",
    );
    expect(first.out).toContain("[th1] kernel | verify: socket buffers are large enough: ok");
    const state = await on("th1").exec(
      "systemctl is-active docker; systemctl is-enabled rigger-firewall; cat /etc/sysctl.d/90-rigger-net.core.rmem_max.conf; stat -c %a /etc/rigger/firewall-rigger.nft",
    );
    expect(state.stdout).toBe("active\nenabled\nnet.core.rmem_max = 7500000\n600\n");

    const second = await rigger(HOST_LAYER, "-i", inventory, "--limit", "th1", "-v");
    expect(second.code).toBe(0);
    expect(notOk(second.out)).toEqual([]);
    const check = await rigger(HOST_LAYER, "-i", inventory, "--limit", "th1", "--check", "--fail-on-change");
    expect(check.code).toBe(0);
    expect(notOk(check.out)).toEqual([]);
    expect(check.out).toContain("[th1] docker | verify: docker answers, with json-file log rotation: skipped");
  });

  it("lets in exactly the declared ports, single and ranges at both ends and the middle, from another host", async () => {
    const result = await probePorts(on("th1"), ip("th1"), on("th2"), [
      "tcp/7881",
      "udp/7882",
      "udp/50000",
      "udp/50050",
      "udp/50100",
      "tcp/7880",
      "tcp/8443",
      "udp/7883",
      "udp/49999",
      "udp/50101",
      "tcp/50000",
    ]);
    expect(result).toEqual({
      "tcp/7881": "open",
      "udp/7882": "open",
      "udp/50000": "open",
      "udp/50050": "open",
      "udp/50100": "open",
      "tcp/7880": "closed",
      "tcp/8443": "closed",
      "udp/7883": "closed",
      "udp/49999": "closed",
      "udp/50101": "closed",
      "tcp/50000": "closed",
    });
    // and SSH, always: a new connection from outside
    const fresh = await SshConnection.open(testbed().target("th1"));
    fresh.close();
  });

  it("rolls back, on the host itself, a rule set that would lock SSH out, and fails saying so", async () => {
    const before = (await on("th1").exec("nft list table inet rigger; sha256sum /etc/rigger/firewall-rigger.nft"))
      .stdout;
    const wrongPort = join(inventory, "wrong-ssh-port.yaml");
    writeFileSync(wrongPort, "firewall_ssh_port: 2222\n");
    const started = Date.now();
    const locked = await rigger(HOST_LAYER, "-i", inventory, "--limit", "th1", "-e", `@${wrongPort}`);
    expect(locked.code).toBe(2);
    expect(locked.out).toMatch(
      /nftables table rigger: 2222\/tcp .*: failed: the firewall rules of table inet rigger blocked new SSH connections \(.*\); the host restored the previous state by itself/,
    );
    expect(Date.now() - started).toBeLessThan(45_000);
    expect((await on("th1").exec("nft list table inet rigger; sha256sum /etc/rigger/firewall-rigger.nft")).stdout).toBe(
      before,
    );
    const again = await rigger(HOST_LAYER, "-i", inventory, "--limit", "th1");
    expect(notOk(again.out)).toEqual([]);
  });

  it("pulls a locally built image from the registry and recreates exactly the container whose spec changed", async () => {
    const first = await rigger(CONTAINERS, "-i", inventory, "--limit", "th1");
    expect(first.code).toBe(0);
    expect(first.out).toContain(`[th1] web | docker image ${image}: changed`);
    const page = await on("th1").exec(
      `python3 -c 'import urllib.request; print(urllib.request.urlopen("http://127.0.0.1:18081/").read().decode(), end="")'`,
    );
    expect(page.stdout).toBe("served by rigger/busybox:1\n");
    expect(first.out).toMatch(
      /warning: \[th1\] container web-b publishes 18082\/tcp on all addresses, which the firewall does not open/,
    );
    expect(first.out).not.toMatch(/container web-a publishes/);

    const ids = await containerIds();
    const unchanged = await rigger(CONTAINERS, "-i", inventory, "--limit", "th1");
    expect(notOk(unchanged.out)).toEqual([]);
    expect(await containerIds()).toBe(ids);

    const changed = await rigger(CONTAINERS, "-i", inventory, "--limit", "th1", "-e", "web_a_greeting=two");
    expect(notOk(changed.out)).toEqual(["[th1] web | container web-a: changed"]);
    const [a, b] = (await containerIds()).trim().split("\n");
    const [oldA, oldB] = ids.trim().split("\n");
    expect(a).not.toBe(oldA);
    expect(b).toBe(oldB);
    expect(
      (await on("th1").exec("docker inspect --format '{{range .Config.Env}}{{println .}}{{end}}' web-a")).stdout,
    ).toContain("GREETING=two");
  });

  it("recreates the container whose env file's secret was rotated, with the new value inside and the old one never printed", async () => {
    const [oldSecret, newSecret] = ["web-secret-one-0123456789abcdef", "web-secret-two-fedcba9876543210"];
    const ids = await containerIds();
    const rotated = await rigger(
      CONTAINERS,
      "-i",
      inventory,
      "--limit",
      "th1",
      "-e",
      "web_a_greeting=two",
      "-e",
      `web_secret=${newSecret}`,
      "-vv",
      "--diff",
    );
    expect(notOk(rotated.out)).toEqual(["[th1] web | container web-b: changed"]);
    const [a, b] = (await containerIds()).trim().split("\n");
    const [oldA, oldB] = ids.trim().split("\n");
    expect(a).toBe(oldA);
    expect(b).not.toBe(oldB);
    expect(
      (await on("th1").exec("docker exec web-b /bin/busybox env | grep WEB_SECRET; stat -c %a /etc/rigger-web/b.env"))
        .stdout,
    ).toBe(`WEB_SECRET=${newSecret}\n600\n`);
    expect(rotated.out + rotated.err).not.toContain(newSecret);
    expect(rotated.out + rotated.err).not.toContain(oldSecret);
    // Never in a command line either: the container was started with the file's path.
    expect(
      (await on("th1").exec("docker inspect --format '{{json .Args}} {{json .HostConfig}}' web-b")).stdout,
    ).not.toContain(newSecret);
  });

  it("fails a container that does not stay up, with the last lines of its log", async () => {
    const result = await rigger("test/roles/fixtures/broken-container.ts", "-i", inventory, "--limit", "th1");
    expect(result.code).toBe(2);
    expect(result.out).toContain(
      "[th1] broken | container web-broken: failed: exit 1: container web-broken did not stay up; the last lines of its log:",
    );
    expect(result.out).toContain("config file /etc/app.conf is missing");
  });

  it("converges the ufw backend too, idempotently, with the same ports", async () => {
    const ufw = join(inventory, "ufw.yaml");
    writeFileSync(ufw, "firewall_backend: ufw\n");
    const first = await rigger(HOST_LAYER, "-i", inventory, "--limit", "th3", "-e", `@${ufw}`);
    expect(first.code).toBe(0);
    expect(first.out).toContain("[th3] firewall | ufw: ssh 7881/tcp 7882/udp 50000:50100/udp: changed");
    const second = await rigger(HOST_LAYER, "-i", inventory, "--limit", "th3", "-e", `@${ufw}`);
    expect(notOk(second.out)).toEqual([]);
    const result = await probePorts(on("th3"), ip("th3"), on("th2"), [
      "tcp/7881",
      "udp/50050",
      "tcp/8443",
      "udp/50101",
    ]);
    expect(result).toEqual({ "tcp/7881": "open", "udp/50050": "open", "tcp/8443": "closed", "udp/50101": "closed" });
  });
});
