import { apt, defineRole, directory, file, service, serviceAction, template } from "../../src/rigger.js";
import { derivedWhen, groupAddresses, jwtServiceUrl } from "../matrixrtc.js";
import { caddyProbes } from "./verify.js";
import { caddyVars, type CaddyVars } from "./vars.js";

const CADDYFILE = "/etc/caddy/Caddyfile";
const ACME_CA_ROOT = "/etc/caddy/acme-ca-root.pem";

/** What /.well-known/matrix/client says: the homeserver, and the SFU (MSC4143's rtc_foci) at the jwt service. */
export const wellKnownClient = (vars: CaddyVars) =>
  JSON.stringify({
    "m.homeserver": { base_url: `https://${vars.matrix_host}` },
    "org.matrix.msc4143.rtc_foci": [{ type: "livekit", livekit_service_url: jwtServiceUrl(vars) }],
  });

const tlsDirective = (vars: CaddyVars) =>
  vars.caddy_tls === "internal" ? "tls internal" : vars.caddy_tls === "files" ? `tls ${vars.caddy_tls_certificate} ${vars.caddy_tls_key_path}` : "";

/** Caddy from Debian's package: TLS and routing for every hostname, and the Matrix well-known. */
export default defineRole({
  name: "caddy",
  vars: caddyVars,
  // Signalling spread over the `sfu` group's nodes (this host's own on loopback).
  derive: (fleet) => {
    const own = fleet.members("sfu").some((member) => member.name === fleet.host) ? ["127.0.0.1"] : [];
    return derivedWhen([...own, ...groupAddresses(fleet, "sfu")], (nodes) => ({ caddy_livekit_upstream: nodes.map((node) => `${node}:7880`) }));
  },
  tasks: (vars) => [
    // curl: the verify probes ask Caddy over TLS as a client would.
    apt({ packages: ["caddy", "curl"] }),
    directory({ path: "/etc/caddy" }),
    ...(vars.caddy_tls === "acme" && vars.caddy_acme_ca_root ? [file({ path: ACME_CA_ROOT, content: vars.caddy_acme_ca_root, notify: "reload caddy" })] : []),
    template({
      path: CADDYFILE,
      template: new URL("templates/Caddyfile.hbs", import.meta.url),
      vars: {
        ...vars,
        tls: tlsDirective(vars),
        acme: vars.caddy_tls === "acme",
        acmeCaRootFile: ACME_CA_ROOT,
        serverNameSite: vars.matrix_server_name !== vars.matrix_host,
        wellKnownClient: wellKnownClient(vars),
        wellKnownServer: vars.caddy_federation_delegated ? JSON.stringify({ "m.server": `${vars.matrix_host}:443` }) : "",
      },
      validate: "caddy validate --adapter caddyfile --config %s",
      notify: "reload caddy",
    }),
    service({ unit: "caddy.service", enabled: true, state: "started" }),
  ],
  // Started by this run, Caddy has read the new Caddyfile: a reload right after would cancel the certificate orders its start began.
  handlers: () => ({ "reload caddy": serviceAction("caddy.service", "reload", { unlessStartedAfter: CADDYFILE }) }),
  ports: () => [
    { protocol: "tcp", port: 80, comment: "caddy: ACME and redirects" },
    { protocol: "tcp", port: 443, comment: "caddy: https" },
  ],
  verify: caddyProbes,
});
