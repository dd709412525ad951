import { command, defineRole, directory, file, type Operation, when } from "../../src/rigger.js";
import { servesWellKnown } from "../matrixrtc/index.js";
import { caddySites, nginxSites, siteNames, sitesDerived, traefikSites, type TraefikTls } from "../sites/index.js";
import { proxyProbes, routeProbes } from "../sites/verify.js";
import { ownProxyVars, type OwnProxyVars } from "./vars.js";

const CADDY_HEADER =
  "# Written by rigger (role own_proxy) for the operator's Caddy: `import` it in your Caddyfile.\n# The next run rewrites it; put your changes elsewhere.\n";

const traefikTls = (vars: OwnProxyVars): TraefikTls =>
  vars.own_proxy_traefik_cert_resolver
    ? { certResolver: vars.own_proxy_traefik_cert_resolver }
    : { certificate: vars.own_proxy_tls_certificate, key: vars.own_proxy_tls_key };

const traefikHeader = (vars: OwnProxyVars) =>
  [
    "# Written by rigger (role own_proxy) for the operator's Traefik: load it with the file provider",
    "# (providers.file.filename, or a directory it watches). The next run rewrites it; put your changes elsewhere.",
    ...when(
      servesWellKnown(vars) && vars.homeserver !== "synapse",
      () => "# The well-known is not here (Traefik serves no static body): your homeserver serves it.",
    ),
    "",
  ].join("\n");

/**
 * `proxy: own`: the operator's reverse proxy fronts the deployment. rigger writes what it must
 * serve, as nginx, Caddy and Traefik snippets from the same table as its own Caddyfile (roles/sites),
 * reloads the proxy when the operator gives the command, and proves every route through it.
 */
export default defineRole({
  name: "own_proxy",
  vars: ownProxyVars,
  enabled: (vars) => vars.proxy === "own",
  derive: sitesDerived,
  tasks: (vars) => {
    const notify = vars.own_proxy_reload ? { notify: "reload own proxy" } : {};
    return [
      directory({ path: vars.own_proxy_dir }),
      file({
        path: `${vars.own_proxy_dir}/nginx.conf`,
        content: nginxSites(vars, { certificate: vars.own_proxy_tls_certificate, key: vars.own_proxy_tls_key }),
        ...notify,
      }),
      file({ path: `${vars.own_proxy_dir}/Caddyfile`, content: CADDY_HEADER + caddySites(vars), ...notify }),
      file({
        path: `${vars.own_proxy_dir}/traefik.yaml`,
        content: traefikHeader(vars) + traefikSites(vars, traefikTls(vars), vars.own_proxy_traefik_entrypoints),
        ...notify,
      }),
    ];
  },
  handlers: (vars): Record<string, Operation> =>
    vars.own_proxy_reload
      ? { "reload own proxy": command({ name: "reload the operator's proxy", run: vars.own_proxy_reload }) }
      : {},
  names: siteNames,
  ports: () => [
    { protocol: "tcp", port: 80, comment: "own proxy: ACME and redirects" },
    { protocol: "tcp", port: 443, comment: "own proxy: https" },
  ],
  verify: (vars) => [...proxyProbes(vars, {}), ...routeProbes(vars, {})],
});
