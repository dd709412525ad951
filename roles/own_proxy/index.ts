import { command, defineRole, directory, file, type Operation } from "../../src/rigger.js";
import { caddySites, nginxSites, sitesDerived } from "../sites/index.js";
import { proxyProbes, routeProbes } from "../sites/verify.js";
import { ownProxyVars } from "./vars.js";

const CADDY_HEADER = "# Written by rigger (role own_proxy) for the operator's Caddy: `import` it in your Caddyfile.\n# The next run rewrites it; put your changes elsewhere.\n";

/**
 * `proxy: own`: the operator's reverse proxy fronts the deployment. rigger writes what it must
 * serve, as an nginx and a Caddy snippet from the same table as its own Caddyfile (roles/sites),
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
      file({ path: `${vars.own_proxy_dir}/nginx.conf`, content: nginxSites(vars, { certificate: vars.own_proxy_tls_certificate, key: vars.own_proxy_tls_key }), ...notify }),
      file({ path: `${vars.own_proxy_dir}/Caddyfile`, content: CADDY_HEADER + caddySites(vars), ...notify }),
    ];
  },
  handlers: (vars): Record<string, Operation> => (vars.own_proxy_reload ? { "reload own proxy": command({ name: "reload the operator's proxy", run: vars.own_proxy_reload }) } : {}),
  ports: () => [
    { protocol: "tcp", port: 80, comment: "own proxy: ACME and redirects" },
    { protocol: "tcp", port: 443, comment: "own proxy: https" },
  ],
  verify: (vars) => [...proxyProbes(vars, {}), ...routeProbes(vars, {})],
});
