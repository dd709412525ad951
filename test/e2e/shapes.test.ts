/**
 * The deployment's shapes on real hosts, behind an operator's own proxy: the whole stack with
 * `proxy: own` behind Debian's nginx, again behind Debian's Caddy serving a site of its own
 * (which rigger must never stop), and behind Traefik built from its Go module; and the call backend alone beside a homeserver the operator
 * already runs (`homeserver: existing`, no Element Call, the well-known theirs). nginx, Caddy,
 * LiveKit and coturn are real; Synapse and lk-jwt-service are the stand-ins (test/standins/).
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SshConnection } from "../../src/connection/ssh.js";
import { stackClient } from "../helpers/matrix-client.js";
import {
  NGINX_CERTIFICATE,
  NGINX_KEY,
  operatorNginx,
  TEAR_DOWN_NGINX,
  writeOperatorSites,
} from "../helpers/operator-nginx.js";
import { operatorTraefik, TEAR_DOWN_TRAEFIK, TRAEFIK_RELOAD } from "../helpers/operator-traefik.js";
import { notOk, rigger } from "../helpers/rigger.js";
import { NAMES, stackInventory, TEAR_DOWN_STACK, trustTestAcme } from "../helpers/stack.js";
import { CADDYFILE_MARKER } from "../../roles/caddy/index.js";
import { describeHosts, type Testbed } from "../testbed/testbed.js";

const OWN_NGINX = [
  "proxy: own",
  `own_proxy_tls_certificate: ${NGINX_CERTIFICATE}`,
  `own_proxy_tls_key: ${NGINX_KEY}`,
  'own_proxy_reload: "nginx -t && systemctl reload nginx"',
];

/** A host of the testbed, connected, with nginx installed; torn down after its suite. */
function operatorHost(testbed: () => Testbed, name: string) {
  const state = { host: undefined as unknown as SshConnection, ip: "", caFile: "", dir: "" };
  const open = async (sites = "") => {
    state.ip = testbed().hosts.find((h) => h.name === name)!.ip;
    state.host = await SshConnection.open(testbed().target(name));
    state.dir = mkdtempSync(join(tmpdir(), "rigger-nginx-"));
    state.caFile = (await operatorNginx(state.host, state.dir, sites)).caFile;
  };
  const close = async () => {
    await state.host?.exec(`${TEAR_DOWN_STACK}; ${TEAR_DOWN_NGINX}`);
    state.host?.close();
  };
  return { state, open, close };
}

/** Debian's Caddy on the host, running with the given Caddyfile. */
async function caddyServing(host: SshConnection, caddyfile: string) {
  const installed = await host.exec(
    "DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends caddy >/dev/null || (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends caddy >/dev/null)",
  );
  if (installed.code !== 0) throw new Error(`caddy did not install: ${installed.stderr}`);
  await host.putFile("/etc/caddy/Caddyfile", caddyfile, 0o644);
  const started = await host.exec("systemctl enable --quiet caddy.service && systemctl restart caddy.service");
  if (started.code !== 0) throw new Error(`caddy did not start: ${started.stderr}`);
}

/** Two users of the homeserver in one room, each granted by the jwt service, exchange audio through LiveKit. */
async function callWorks(client: ReturnType<typeof stackClient>) {
  const [publisher, subscriber] = await client.twoUsersIn(`!shape-${Date.now()}:${NAMES.matrix_server_name}`);
  const outcome = await client.call({ publisher, subscriber });
  expect(outcome, JSON.stringify(outcome)).toMatchObject({ ok: true });
}

const tls = `ssl_certificate ${NGINX_CERTIFICATE}; ssl_certificate_key ${NGINX_KEY};`;

/** The operator's nginx for their homeserver: the server name's well-known (client answer given), the client and federation APIs. */
const homeserverSites = (wellKnownClient: string) => `
server {
	listen 443 ssl http2;
	server_name ${NAMES.matrix_server_name};
	${tls}
	location = /.well-known/matrix/server { default_type application/json; return 200 '{"m.server":"${NAMES.matrix_host}:443"}'; }
	location = /.well-known/matrix/client { default_type application/json; add_header Access-Control-Allow-Origin * always; return 200 '${wellKnownClient}'; }
}
server {
	listen 443 ssl http2;
	server_name ${NAMES.matrix_host};
	${tls}
	location ~ ^(/_matrix|/_synapse/client) { proxy_pass http://127.0.0.1:8008; proxy_set_header Host $host; proxy_set_header X-Forwarded-For $remote_addr; }
}
`;

describeHosts("deployment shapes behind an operator's own proxy", (testbed) => {
  describe("proxy: own, the whole stack", () => {
    const th = operatorHost(testbed, "th4");
    let inventory: string;
    let deployed: { code: number; out: string };
    beforeAll(async () => {
      await th.open();
      // A Caddy an earlier rigger run configured (its Caddyfile carries rigger's marker), still running.
      await caddyServing(
        th.state.host,
        `${CADDYFILE_MARKER}: edits here are undone by the next run.\n:8089 {\n\trespond "rigger's earlier caddy"\n}\n`,
      );
      // The controller is the Prometheus server: the metrics ports admit it alone.
      inventory = stackInventory(testbed(), "th4", [...OWN_NGINX, "metrics_clients: [172.30.0.1]"].join("\n"));
      deployed = await rigger("playbooks/site.ts", "-i", inventory);
    }, 400_000);
    afterAll(() => th.close());

    it("deploys without Caddy, writes the snippets, reloads the operator's nginx, and proves every route through it", async () => {
      expect(deployed.code, deployed.out).toBe(0);
      // The Caddy rigger configured before is stopped and disabled, its Caddyfile set aside: the operator's nginx holds 443.
      const caddy = await th.state.host.exec(
        "systemctl is-active caddy.service; systemctl is-enabled caddy.service; ls /etc/caddy | grep Caddyfile",
      );
      expect(caddy.stdout).toBe("inactive\ndisabled\nCaddyfile.rigger-removed\n");
      for (const route of [
        `${NAMES.matrix_host}/_matrix/client/versions`,
        `${NAMES.matrix_host}/_livekit/healthz`,
        `${NAMES.livekit_host}/`,
        `${NAMES.element_call_host}/config.json`,
      ])
        expect(deployed.out).toContain(`https://${route} reaches its service through the proxy`);
      expect(deployed.out).toContain("the well-known advertises the SFU");
      expect(deployed.out).toContain(
        "[th4] caddy | verify: no caddy of rigger's runs (the operator's proxy serves 80 and 443): ok",
      );
      // The Caddy snippet for an operator's Caddy is valid Caddyfile text for the same sites.
      const snippet = (await th.state.host.exec("cat /etc/matrixrtc/proxy/Caddyfile")).stdout;
      for (const name of Object.values(NAMES).filter((n) => n !== NAMES.turn_host))
        expect(snippet).toContain(`\n${name} {\n`);
    });

    it("carries a call through nginx", async () => {
      await callWorks(
        stackClient({ inventory, proxyIp: th.state.ip, homeserver: () => th.state.host, ca: th.state.caFile }),
      );
    }, 60_000);

    it("serves LiveKit's metrics to metrics_clients only, and refuses coturn metrics from a coturn built without them, leaving its config", async () => {
      const scraped = await fetch(`http://${th.state.ip}:6789/metrics`);
      expect(scraped.status).toBe(200);
      expect(await scraped.text()).toMatch(/^livekit_\w+/m);
      const other = await SshConnection.open(testbed().target("th5"));
      try {
        expect((await other.exec(`curl -sS --max-time 3 http://${th.state.ip}:6789/metrics`)).code).not.toBe(0);
      } finally {
        other.close();
      }
      const coturn = await rigger("playbooks/site.ts", "-i", inventory, "-t", "coturn", "-e", "coturn_metrics=true");
      expect(coturn.code).not.toBe(0);
      expect(coturn.out).toContain("is built without Prometheus support (Debian's coturn package has none)");
      expect(
        (await th.state.host.exec("grep -c '^prometheus' /etc/matrixrtc/coturn/turnserver.conf")).stdout.trim(),
      ).toBe("0");
    }, 120_000);

    it("finds a route the operator's proxy lost (Element Call's 404 on the jwt service), and the next run puts it back", async () => {
      await th.state.host.exec(
        "sed -i '/location \\/_livekit\\//,/^\\t}/d' /etc/matrixrtc/proxy/nginx.conf && nginx -t && systemctl reload nginx",
      );
      const lost = await rigger("playbooks/verify.ts", "-i", inventory, "-t", "own_proxy");
      expect(lost.code).toBe(2);
      expect(lost.out).toContain(
        `own_proxy | verify: https://${NAMES.matrix_host}/_livekit/healthz reaches its service through the proxy: failed`,
      );
      const fixed = await rigger("playbooks/site.ts", "-i", inventory, "-t", "own_proxy");
      expect(fixed.code, fixed.out).toBe(0);
      expect(fixed.out).toContain(
        `own_proxy | verify: https://${NAMES.matrix_host}/_livekit/healthz reaches its service through the proxy: ok`,
      );
    }, 120_000);

    it("changes nothing on a second run", async () => {
      const again = await rigger("playbooks/site.ts", "-i", inventory);
      expect(again.code, again.out).toBe(0);
      expect(notOk(again.out)).toEqual([]);
    }, 120_000);
  });

  describe("homeserver: existing, the call backend beside it (no Element Call, the well-known the operator's)", () => {
    const th = operatorHost(testbed, "th5");
    let inventory: string;
    let first: { code: number; out: string };
    const jwtUrl = `https://${NAMES.livekit_host}/_livekit`;
    beforeAll(async () => {
      inventory = stackInventory(
        testbed(),
        "th5",
        [
          ...OWN_NGINX,
          "homeserver: existing",
          "element_call_enabled: false",
          `synapse_rtc_transports: [{ type: livekit, livekit_service_url: "${jwtUrl}" }]`,
        ].join("\n"),
      );
      const homeserver = await rigger("test/e2e/fixtures/existing-homeserver.ts", "-i", inventory);
      expect(homeserver.code, homeserver.out).toBe(0);
      await th.open(homeserverSites(JSON.stringify({ "m.homeserver": { base_url: `https://${NAMES.matrix_host}` } })));
      first = await rigger("playbooks/site.ts", "-i", inventory);
    }, 400_000);
    afterAll(() => th.close());

    it("stops on the homeserver's well-known that lacks the SFU, printing what to serve", () => {
      expect(first.code, first.out).not.toBe(0);
      expect(first.out).toContain(
        "existing_homeserver | verify: the homeserver's well-known advertises this SFU: failed",
      );
      expect(first.out).toContain(`the homeserver's well-known does not advertise ${jwtUrl}`);
      expect(first.out).toContain(
        `"org.matrix.msc4143.rtc_foci":[{"type":"livekit","livekit_service_url":"${jwtUrl}"}]`,
      );
    });

    it("passes once the operator serves the printed well-known, with no Synapse, Element Call or Caddy of its own, and carries a call", async () => {
      const printed = /\{"m\.homeserver".*?\]\}/.exec(first.out)![0];
      await writeOperatorSites(th.state.host, homeserverSites(printed));
      const second = await rigger("playbooks/site.ts", "-i", inventory);
      expect(second.code, second.out).toBe(0);
      expect(second.out).toMatch(/the homeserver's federation API answers OpenID checks/);
      // The operator's Synapse (the fixture's) and the call backend; no Element Call.
      const containers = (await th.state.host.exec("docker ps --format '{{.Names}}' | sort")).stdout;
      expect(containers.split("\n").filter(Boolean)).toEqual([
        "matrixrtc-coturn",
        "matrixrtc-livekit",
        "matrixrtc-lk-jwt",
        "matrixrtc-synapse",
      ]);
      expect((await th.state.host.exec("systemctl is-active caddy.service || true")).stdout).not.toBe("active\n");
      expect((await th.state.host.exec("cat /etc/matrixrtc/existing-homeserver.yaml")).stdout).toContain(
        `livekit_service_url: ${jwtUrl}`,
      );
      const verified = await rigger("playbooks/verify.ts", "-i", inventory);
      expect(verified.code, verified.out).toBe(0);
      await callWorks(
        stackClient({
          inventory,
          proxyIp: th.state.ip,
          homeserver: () => th.state.host,
          ca: th.state.caFile,
          jwtHost: NAMES.livekit_host,
        }),
      );
    }, 300_000);

    it("fails verify, naming the fix, when the jwt service's container cannot find the homeserver's client-server API (a well-known without m.homeserver)", async () => {
      const printed = /\{"m\.homeserver".*?\]\}/.exec(first.out)![0];
      const withoutHomeserver = JSON.stringify({
        "org.matrix.msc4143.rtc_foci": JSON.parse(printed)["org.matrix.msc4143.rtc_foci"],
      });
      await writeOperatorSites(th.state.host, homeserverSites(withoutHomeserver));
      const refused = await rigger("playbooks/verify.ts", "-i", inventory);
      expect(refused.code, refused.out).toBe(2);
      expect(refused.out).toContain(
        "existing_homeserver | verify: the jwt service finds the homeserver's client-server API from its container (where it sends a delegated leave): failed",
      );
      expect(refused.out).toContain(
        'every token request that hands over a leave (Element Call\'s matrix_2_0 mode) is refused 400 "Unable to resolve client-server API"',
      );
      await writeOperatorSites(th.state.host, homeserverSites(printed));
      const verified = await rigger("playbooks/verify.ts", "-i", inventory);
      expect(verified.code, verified.out).toBe(0);
      expect(verified.out).toContain(
        `the jwt service finds the homeserver's client-server API from its container (where it sends a delegated leave): ok`,
      );
    }, 120_000);
  });

  describe("proxy: own behind the operator's own Caddy (Debian's package, serving a site of its own)", () => {
    let host: SshConnection;
    let ip: string;
    let inventory: string;
    let runs: Array<{ code: number; out: string }>;
    /** The operator's site answers: over HTTP on 8088, and over HTTPS with a certificate of Caddy's own CA on 8443. */
    const operatorSite = async () =>
      (
        await host.exec(
          "curl -sS --max-time 5 http://127.0.0.1:8088/; echo; curl -sS --max-time 5 --resolve operator.example.test:8443:127.0.0.1 https://operator.example.test:8443/",
        )
      ).stdout;
    beforeAll(async () => {
      ip = testbed().hosts.find((h) => h.name === "th4")!.ip;
      host = await SshConnection.open(testbed().target("th4"));
      // Their Caddy issues from its own CA (local_certs), imports rigger's snippet, as roles/own_proxy/README.md says,
      // through a pattern that may match nothing before rigger's first run; the host trusts that CA, as it would a public one.
      await caddyServing(
        host,
        [
          "{\n\tlocal_certs\n}",
          ':8088 {\n\trespond "the operator\'s own site"\n}',
          'operator.example.test:8443 {\n\trespond "the operator\'s own site, over TLS"\n}',
          // Caddy 2.6 allows one * in an import's pattern, and a pattern that matches nothing is no error.
          "import /etc/matrixrtc/proxy/Caddyfile*",
          "",
        ].join("\n"),
      );
      const root = await host.exec(
        "for i in $(seq 50); do [ -s /var/lib/caddy/.local/share/caddy/pki/authorities/local/root.crt ] && break; sleep 0.2; done; cat /var/lib/caddy/.local/share/caddy/pki/authorities/local/root.crt",
      );
      await trustTestAcme(host, root.stdout);
      inventory = stackInventory(
        testbed(),
        "th4",
        ["proxy: own", 'own_proxy_reload: "systemctl reload caddy.service"', "synapse_database: sqlite"].join("\n"),
      );
      runs = [await rigger("playbooks/site.ts", "-i", inventory), await rigger("playbooks/site.ts", "-i", inventory)];
    }, 500_000);
    afterAll(async () => {
      await host?.exec(`${TEAR_DOWN_STACK}; systemctl disable --now caddy.service; rm -f /etc/caddy/Caddyfile*`);
      host?.close();
    });

    it("leaves the operator's Caddy running with its own site, serves every route through it, and changes nothing on a second run", async () => {
      const [first, second] = runs as [{ code: number; out: string }, { code: number; out: string }];
      expect(first.code, first.out).toBe(0);
      expect(first.out).toContain(
        "[th4] caddy | verify: no caddy of rigger's runs (the operator's proxy serves 80 and 443): ok",
      );
      for (const route of [
        `${NAMES.matrix_host}/_matrix/client/versions`,
        `${NAMES.matrix_host}/_livekit/healthz`,
        `${NAMES.livekit_host}/`,
        `${NAMES.element_call_host}/config.json`,
      ])
        expect(first.out).toContain(`https://${route} reaches its service through the proxy`);
      expect(second.code, second.out).toBe(0);
      expect(notOk(second.out)).toEqual([]);
      expect(
        (
          await host.exec(
            "systemctl is-active caddy.service; systemctl is-enabled caddy.service; head -n 1 /etc/caddy/Caddyfile",
          )
        ).stdout,
      ).toBe("active\nenabled\n{\n");
      expect(await operatorSite()).toBe("the operator's own site\nthe operator's own site, over TLS");
    });

    it("carries a call through the operator's Caddy", async () => {
      await callWorks(stackClient({ inventory, proxyIp: ip, homeserver: () => host }));
    }, 60_000);
  });

  describe("proxy: own behind the operator's Traefik (built from its Go module), its file provider reading rigger's traefik.yaml", () => {
    let host: SshConnection;
    let ip: string;
    let caFile: string;
    let inventory: string;
    let runs: Array<{ code: number; out: string }>;
    beforeAll(async () => {
      ip = testbed().hosts.find((h) => h.name === "th5")!.ip;
      host = await SshConnection.open(testbed().target("th5"));
      ({ caFile } = await operatorTraefik(host, mkdtempSync(join(tmpdir(), "rigger-traefik-"))));
      inventory = stackInventory(
        testbed(),
        "th5",
        [
          "proxy: own",
          `own_proxy_tls_certificate: ${NGINX_CERTIFICATE}`,
          `own_proxy_tls_key: ${NGINX_KEY}`,
          "own_proxy_traefik_entrypoints: [websecure]",
          `own_proxy_reload: ${JSON.stringify(TRAEFIK_RELOAD)}`,
          "synapse_database: sqlite",
        ].join("\n"),
      );
      runs = [await rigger("playbooks/site.ts", "-i", inventory), await rigger("playbooks/site.ts", "-i", inventory)];
    }, 500_000);
    afterAll(async () => {
      await host?.exec(`${TEAR_DOWN_STACK}; ${TEAR_DOWN_TRAEFIK}`);
      host?.close();
    });

    it("serves the well-known (Synapse's own, with CORS) and every route through Traefik, and changes nothing on a second run", async () => {
      const [first, second] = runs as [{ code: number; out: string }, { code: number; out: string }];
      expect(first.code, first.out).toBe(0);
      expect(first.out).toContain("[th5] own_proxy | verify: the well-known advertises the SFU, as JSON with CORS: ok");
      for (const route of [
        `${NAMES.matrix_host}/_matrix/client/versions`,
        `${NAMES.matrix_host}/_livekit/healthz`,
        `${NAMES.livekit_host}/`,
        `${NAMES.element_call_host}/config.json`,
      ])
        expect(first.out).toContain(
          `[th5] own_proxy | verify: https://${route} reaches its service through the proxy: ok`,
        );
      expect(second.code, second.out).toBe(0);
      expect(notOk(second.out)).toEqual([]);
      // Federation delegated as Synapse delegates it: the server name on 443, its /_matrix/ routed to Synapse too.
      const server = await host.exec(
        `curl -sS --resolve ${NAMES.matrix_server_name}:443:127.0.0.1 https://${NAMES.matrix_server_name}/.well-known/matrix/server https://${NAMES.matrix_server_name}/_matrix/client/versions`,
      );
      expect(server.stdout).toContain(`{"m.server":"${NAMES.matrix_server_name}:443"}`);
      expect(server.stdout).toContain('"versions"');
    });

    it("carries a call through Traefik", async () => {
      await callWorks(stackClient({ inventory, proxyIp: ip, homeserver: () => host, ca: caFile }));
    }, 60_000);
  });
});
