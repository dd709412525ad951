import { expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import { parse } from "yaml";
import caddy, { CADDYFILE_MARKER } from "../../../roles/caddy/index.js";
import { checksOf, prepared, rendered, rolesOf, tasksOf } from "./prepared-site.js";

it("proxy: own: no Caddy; the nginx, Caddy and Traefik snippets serve every name with the routes rigger's Caddyfile has; 80 and 443 stay open", () => {
  const { plays, warnings } = prepared("inventory/own-proxy");
  expect(warnings).toEqual([]);
  // caddy stays in the list to stop a Caddy an earlier run configured (the operator's proxy takes 80 and 443); an operator's own Caddy is left alone.
  expect(rolesOf(plays, "web1")).toEqual([
    "docker",
    "firewall",
    "caddy",
    "kernel",
    "livekit",
    "lk_jwt",
    "backup",
    "postgres",
    "synapse",
    "livekit_webhook",
    "coturn",
    "element_call",
    "own_proxy",
    "call_probe",
  ]);
  expect(tasksOf(plays, "web1", "caddy")).toEqual(["rigger's caddy stopped and disabled, its Caddyfile set aside"]);
  const nginx = rendered(plays, "web1", "/etc/matrixrtc/proxy/nginx.conf");
  for (const name of ["example.org", "matrix.example.org", "livekit.example.org", "call.example.org"]) {
    expect(nginx).toContain(
      `\tserver_name ${name};\n\tssl_certificate "/etc/letsencrypt/live/${name}/fullchain.pem";\n`,
    );
  }
  expect(nginx).toContain(
    "\tlocation /_livekit/ {\n\t\t# The trailing / replaces the prefix: the service sees the path without it.\n\t\tproxy_pass http://127.0.0.1:8380/;\n",
  );
  expect(nginx).toContain("\tlocation /_matrix/ {\n\t\tproxy_pass http://127.0.0.1:8008;\n");
  expect(nginx).toMatch(
    /return 200 '\{"m.homeserver":\{"base_url":"https:\/\/matrix.example.org"\},"org.matrix.msc4143.rtc_foci":\[\{"type":"livekit","livekit_service_url":"https:\/\/matrix.example.org\/_livekit"\}\]\}';/,
  );
  expect(nginx).toContain(
    "upstream matrixrtc_livekit_example_org {\n\tserver 127.0.0.1:7880 max_fails=1 fail_timeout=10s;\n}",
  );
  // The operator's Caddy gets the same sites as rigger's own, without the global options or a tls line.
  const caddySnippet = rendered(plays, "web1", "/etc/matrixrtc/proxy/Caddyfile");
  const ownCaddy = rendered(prepared("inventory/dev2", { caddy_tls: "acme" }).plays, "dev2", "/etc/caddy/Caddyfile");
  expect(caddySnippet.slice(caddySnippet.indexOf("\nexample.org {")).trimEnd()).toBe(
    ownCaddy.slice(ownCaddy.indexOf("\nexample.org {")).trimEnd(),
  );
  expect(caddySnippet).not.toMatch(/acme_ca|\btls\b/);
  // What tells rigger's Caddy from the operator's: the first line of the Caddyfile rigger writes, never of the snippet.
  expect(ownCaddy.split("\n")[0]).toContain(CADDYFILE_MARKER);
  expect(caddySnippet).not.toContain(CADDYFILE_MARKER);
  // The removal's commands are ones the shell reads.
  const removal = caddy.removal!({} as never);
  const commands = [
    ...(removal.tasks[0]!.plan({ satisfied: false }) as Array<{ command: string }>),
    ...(removal.verify[0]!.plan({}) as Array<{ command: string }>),
  ].map((step) => step.command);
  for (const command of commands) expect(() => execFileSync("sh", ["-n", "-c", command]), command).not.toThrow();
  // The operator's Traefik gets the same routes from its file provider; the well-known from Synapse itself, which serves the same content.
  const traefik = parse(rendered(plays, "web1", "/etc/matrixrtc/proxy/traefik.yaml")) as {
    http: {
      routers: Record<string, { rule: string; service: string; middlewares?: string[] }>;
      middlewares: Record<string, unknown>;
      services: Record<string, { loadBalancer: { servers: Array<{ url: string }> } }>;
    };
    tls: unknown;
  };
  const routes = Object.values(traefik.http.routers).map(
    (r) =>
      `${r.rule} -> ${traefik.http.services[r.service]!.loadBalancer.servers.map((s) => s.url).join(" ")}${r.middlewares ? " (stripped)" : ""}`,
  );
  expect(routes).toEqual([
    "Host(`example.org`) && Path(`/.well-known/matrix/client`) -> http://127.0.0.1:8008",
    "Host(`example.org`) && Path(`/.well-known/matrix/server`) -> http://127.0.0.1:8008",
    "Host(`example.org`) && PathPrefix(`/_matrix/`) -> http://127.0.0.1:8008",
    "Host(`matrix.example.org`) && PathPrefix(`/_synapse/client/`) -> http://127.0.0.1:8008",
    "Host(`matrix.example.org`) && PathPrefix(`/_livekit/`) -> http://127.0.0.1:8380 (stripped)",
    "Host(`matrix.example.org`) && PathPrefix(`/_matrix/`) -> http://127.0.0.1:8008",
    "Host(`livekit.example.org`) -> http://127.0.0.1:7880",
    "Host(`call.example.org`) -> http://127.0.0.1:8280",
  ]);
  expect(Object.values(traefik.http.middlewares)).toEqual([{ stripPrefix: { prefixes: ["/_livekit"] } }]);
  expect(traefik.tls).toMatchObject({
    certificates: expect.arrayContaining([
      {
        certFile: "/etc/letsencrypt/live/example.org/fullchain.pem",
        keyFile: "/etc/letsencrypt/live/example.org/privkey.pem",
      },
    ]),
  });
  const homeserver = parse(rendered(plays, "web1", "/etc/matrixrtc/synapse/homeserver.yaml")) as Record<
    string,
    unknown
  >;
  expect(homeserver).toMatchObject({
    serve_client_wellknown: true,
    serve_server_wellknown: true,
    extra_well_known_client_content: {
      "org.matrix.msc4143.rtc_foci": [{ type: "livekit", livekit_service_url: "https://matrix.example.org/_livekit" }],
    },
  });
  const firewall = plays[0]!.hosts
    .get("web1")!
    .find((r) => r.name === "firewall")!
    .tasks.find((t) => t.name.startsWith("nftables"))!;
  expect(firewall.name).toBe(
    "nftables table rigger: ssh 7881/tcp 7882/udp 3478/udp 3478/tcp 49152-50151/udp 80/tcp 443/tcp",
  );
});

it("homeserver: existing: no Synapse or Element Call; the jwt service on livekit_host, found by the homeserver's own well-known; the settings written for the operator", () => {
  const { plays, warnings } = prepared("inventory/beside-homeserver");
  expect(warnings).toEqual([]);
  // Synapse is never removed (it holds a homeserver's data); Element Call, turned off, is.
  expect(rolesOf(plays, "matrix1")).toEqual([
    "docker",
    "firewall",
    "caddy",
    "kernel",
    "livekit",
    "lk_jwt",
    "existing_homeserver",
    "livekit_webhook",
    "coturn",
    "element_call",
    "own_proxy",
    "call_probe",
  ]);
  expect(tasksOf(plays, "matrix1", "element_call")).toEqual([
    "no container matrixrtc-element-call",
    "absent /etc/matrixrtc/element-call",
  ]);
  const nginx = rendered(plays, "matrix1", "/etc/matrixrtc/proxy/nginx.conf");
  expect([...nginx.matchAll(/server_name (\S+);/g)].map((m) => m[1])).toEqual(["rtc.example.org"]);
  expect(nginx).not.toContain(".well-known");
  const settings = rendered(plays, "matrix1", "/etc/matrixrtc/existing-homeserver.yaml");
  expect(settings).toContain(
    '"org.matrix.msc4143.rtc_foci":[{"type":"livekit","livekit_service_url":"https://rtc.example.org/_livekit"}]',
  );
  expect(settings).toContain(
    "matrix_rtc:\n  transports:\n    - type: livekit\n      livekit_service_url: https://rtc.example.org/_livekit\n",
  );
  expect(settings).toContain("max_event_delay_duration: 24h\n");
  // With rigger's Caddy instead: the same single site, the jwt service under it, no well-known.
  const caddy = rendered(
    prepared("inventory/beside-homeserver", { proxy: "caddy" }).plays,
    "matrix1",
    "/etc/caddy/Caddyfile",
  );
  expect(caddy).toMatch(
    /\nrtc\.example\.org \{\n\thandle_path \/_livekit\/\* \{\n\t\treverse_proxy 127\.0\.0\.1:8380\n\t\}\n\thandle \{\n\t\treverse_proxy 127\.0\.0\.1:7880 \{/,
  );
  expect(caddy).not.toMatch(/matrix\.example\.org|\nexample\.org \{|call\.element\.io/);
});

it("element_call_enabled and well_known_enabled leave out Element Call and the well-known; Element Call, when on, points at the jwt service wherever it is served", () => {
  const { plays } = prepared("inventory/dev2", { element_call_enabled: false, well_known_enabled: false });
  expect(tasksOf(plays, "dev2", "element_call")).toEqual([
    "no container matrixrtc-element-call",
    "absent /etc/matrixrtc/element-call",
  ]);
  expect(
    plays
      .flatMap((p) => p.hosts.get("dev2") ?? [])
      .find((r) => r.name === "element_call")!
      .verify.map((c) => c.name),
  ).toEqual(["matrixrtc-element-call and /etc/matrixrtc/element-call are gone"]);
  const caddy = rendered(plays, "dev2", "/etc/caddy/Caddyfile");
  expect(caddy).not.toMatch(/well-known|call\.example\.org/);
  const beside = prepared("inventory/beside-homeserver", {
    element_call_enabled: true,
    element_call_host: "call.example.org",
  }).plays;
  expect(
    JSON.parse(rendered(beside, "matrix1", "/etc/matrixrtc/element-call/config.json")).livekit.livekit_service_url,
  ).toBe("https://rtc.example.org/_livekit");
});

it("the services' ports and bind address are variables the proxy config follows; a wildcard address is refused", () => {
  const { plays } = prepared("inventory/own-proxy", {
    matrixrtc_bind_address: "10.0.0.5",
    synapse_port: 18008,
    lk_jwt_port: 18380,
  });
  const nginx = rendered(plays, "web1", "/etc/matrixrtc/proxy/nginx.conf");
  expect(nginx).toContain("proxy_pass http://10.0.0.5:18008;");
  expect(nginx).toContain("proxy_pass http://10.0.0.5:18380/;");
  expect(nginx).toContain("server 10.0.0.5:7880 ");
  expect(() => prepared("inventory/own-proxy", { matrixrtc_bind_address: "0.0.0.0" })).toThrow(
    /matrixrtc_bind_address: expected one address: a wildcard publishes the port to the world/,
  );
});

it("refuses the call probe beside an existing homeserver (its users are registered through rigger's Synapse)", () => {
  expect(() => prepared("inventory/beside-homeserver", { call_probe: true })).toThrow(
    /role call_probe: call_probe registers its users through rigger's Synapse/,
  );
});

it("takes the call probe as the Node client or a browser, forced through coturn; refuses TURN over TLS alone without a browser, and a path it does not know", () => {
  const callCheck = (extra: Record<string, unknown>) =>
    checksOf(prepared("inventory/dev2", extra).plays, "dev2", "call_probe").find((name) =>
      name.includes("two-party call"),
    );
  expect(callCheck({ call_probe: "true" })).toBe(
    "a two-party call carries media (Matrix users, OpenID, the jwt service, LiveKit)",
  );
  expect(callCheck({ call_probe: "browser", call_probe_path: "relay-tls" })).toBe(
    "a two-party call carries media (Matrix users, OpenID, the jwt service, LiveKit, in browsers, relay-tls forced)",
  );
  expect(callCheck({ call_probe: "false" })).toBeUndefined();
  expect(() => prepared("inventory/dev2", { call_probe: true, call_probe_path: "relay-tls" })).toThrow(
    /role call_probe: call_probe_path relay-tls needs call_probe=browser/,
  );
  expect(() => prepared("inventory/dev2", { call_probe: "chrome" })).toThrow(/call_probe/);
  expect(() => prepared("inventory/dev2", { call_probe: true, call_probe_path: "turn" })).toThrow(
    /call_probe_path.*"any"\|"relay"\|"relay-tls"/,
  );
});

it("proxy: own: quotes certificate paths in the nginx snippet, and refuses one nginx would read as syntax, naming the variable", () => {
  const spaced = prepared("inventory/own-proxy", { own_proxy_tls_certificate: "/srv/my certs/{name}.pem" }).plays;
  expect(rendered(spaced, "web1", "/etc/matrixrtc/proxy/nginx.conf")).toContain(
    '\tssl_certificate "/srv/my certs/matrix.example.org.pem";\n',
  );
  expect(() => prepared("inventory/own-proxy", { own_proxy_tls_key: "/srv/{name}.key; include /etc/passwd" })).toThrow(
    /own_proxy_tls_key: expected a path without ", \\, \$, ; or a line break/,
  );
});
