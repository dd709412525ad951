/**
 * The names the deployment serves over HTTPS and where each path goes: one table from which
 * rigger's Caddyfile and the snippets for an operator's own proxy (Caddy, nginx, Traefik) are all
 * rendered, so they cannot drift apart.
 */
import { stringify } from "yaml";
import { z } from "zod";
import { render, type Fleet } from "../../src/rigger.js";
import { WELL_KNOWN_FOCI } from "../call_probe/discovery.js";
import {
  derivedWhen,
  groupAddresses,
  jwtHost,
  names,
  published,
  publishedAt,
  rtcFoci,
  servesWellKnown,
  shape,
} from "../matrixrtc/index.js";

const address = z.string().regex(/^[\w.:[\]-]+:\d+$/, "expected host:port");

/** What the proxy needs to know: the names, the shape, the services' ports and, in a split deployment, other hosts' addresses. */
export const siteVars = {
  ...names,
  ...shape,
  ...published,
  /** Serve /.well-known/matrix/server too, delegating federation to matrix_host:443. */
  caddy_federation_delegated: z.boolean().default(true),
  /** Where the proxy reaches Synapse (host:port); by default matrixrtc_bind_address and synapse_port. */
  caddy_synapse_upstream: address.optional(),
  /** Where the proxy reaches the jwt service; by default matrixrtc_bind_address and lk_jwt_port. */
  caddy_jwt_upstream: address.optional(),
  /** Where the proxy reaches LiveKit: one node, or several (distributed mode), over which signalling is spread, skipping one that is down; by default the nodes of the group sfu, else matrixrtc_bind_address and livekit_port. */
  caddy_livekit_upstream: z.union([address.transform((a) => [a]), z.array(address).min(1)]).optional(),
  /** Where the proxy reaches Element Call; by default matrixrtc_bind_address and element_call_port. */
  caddy_element_call_upstream: address.optional(),
};
/** In a split deployment, LiveKit's signalling spread over the `sfu` group's nodes (this host's own on its bind address). */
export const sitesDerived = (fleet: Fleet) => {
  const own = fleet.members("sfu").find((member) => member.name === fleet.host);
  const nodes = [
    ...(own ? [String(own.vars.matrixrtc_bind_address ?? "127.0.0.1")] : []),
    ...groupAddresses(fleet, "sfu"),
  ];
  return derivedWhen(nodes, (found) => ({ caddy_livekit_upstream: found.map((node) => `${node}:7880`) }));
};

const siteSchema = z.object(siteVars);
export type SiteVars = z.output<typeof siteSchema>;

export interface Route {
  /** A path prefix ending in "/" ("/" alone: everything not routed otherwise). */
  prefix: string;
  upstreams: string[];
  /** The service expects paths without the prefix (the jwt service serves /sfu/get, not /_livekit/sfu/get). */
  strip?: boolean;
  /** A path that proves the route reaches its service (200), for the probes through an operator's proxy. */
  probe?: string;
  /** A pool of nodes (LiveKit): spread over them, a node that is down skipped, a restarting one waited for. */
  pool?: boolean;
}

export interface Site {
  name: string;
  /** /.well-known/matrix/client, and /server when federation is delegated: JSON bodies. */
  wellKnown?: { client: string; server?: string };
  routes: Route[];
}

/** What /.well-known/matrix/client says: the homeserver, and the SFU (MSC4143's rtc_foci) at the jwt service. */
export const wellKnownClient = (vars: SiteVars) =>
  JSON.stringify({
    "m.homeserver": { base_url: `https://${vars.matrix_host}` },
    [WELL_KNOWN_FOCI]: rtcFoci(vars),
  });

export const wellKnownServer = (vars: SiteVars) => JSON.stringify({ "m.server": `${vars.matrix_host}:443` });

/** The sites, in the order a config lists them; a name two sites share is merged into one. */
export function sites(vars: SiteVars): Site[] {
  const jwt: Route = {
    prefix: "/_livekit/",
    upstreams: [vars.caddy_jwt_upstream ?? publishedAt(vars, vars.lk_jwt_port)],
    strip: true,
    probe: "/_livekit/healthz",
  };
  const synapse = [vars.caddy_synapse_upstream ?? publishedAt(vars, vars.synapse_port)];
  const all: Site[] = [
    ...(servesWellKnown(vars)
      ? [
          {
            name: vars.matrix_server_name,
            wellKnown: {
              client: wellKnownClient(vars),
              ...(vars.caddy_federation_delegated ? { server: wellKnownServer(vars) } : {}),
            },
            routes: [],
          },
        ]
      : []),
    ...(vars.homeserver === "synapse"
      ? [
          {
            name: vars.matrix_host,
            routes: [
              { prefix: "/_matrix/", upstreams: synapse, probe: "/_matrix/client/versions" },
              { prefix: "/_synapse/client/", upstreams: synapse },
            ],
          },
        ]
      : []),
    { name: jwtHost(vars), routes: [jwt] },
    // Every path: clients' websockets, and the jwt service's Twirp calls that create rooms.
    {
      name: vars.livekit_host,
      routes: [
        {
          prefix: "/",
          upstreams: vars.caddy_livekit_upstream ?? [publishedAt(vars, vars.livekit_port)],
          probe: "/",
          pool: true,
        },
      ],
    },
    ...(vars.element_call_enabled
      ? [
          {
            name: vars.element_call_host,
            routes: [
              {
                prefix: "/",
                upstreams: [vars.caddy_element_call_upstream ?? publishedAt(vars, vars.element_call_port)],
                probe: "/config.json",
              },
            ],
          },
        ]
      : []),
  ];
  const merged = new Map<string, Site>();
  for (const site of all) {
    const seen = merged.get(site.name);
    if (!seen) merged.set(site.name, { ...site, routes: [...site.routes] });
    else
      merged.set(site.name, {
        ...seen,
        ...(site.wellKnown ? { wellKnown: site.wellKnown } : {}),
        routes: [...seen.routes, ...site.routes],
      });
  }
  // Longest prefix first: "/" last, as the catch-all.
  return [...merged.values()].map((site) => ({
    ...site,
    routes: site.routes.sort((a, b) => b.prefix.length - a.prefix.length),
  }));
}

const isCatchAll = (route: Route) => route.prefix === "/";

/** The sites as Caddyfile text: rigger's own Caddy (with its `tls` directive) or an operator's (none: Caddy's automatic HTTPS). */
/** The names a proxy of these sites answers: the evidence report's picture of which host serves which name. */
export const siteNames = (vars: SiteVars) => sites(vars).map((site) => site.name);

export function caddySites(vars: SiteVars, tls = ""): string {
  return render(new URL("Caddyfile-sites.hbs", import.meta.url), {
    tls,
    sites: sites(vars).map((site) => ({
      ...site,
      catchAll: site.routes.some(isCatchAll),
      routes: site.routes.map((route) => ({
        ...route,
        // handle_path strips the prefix before proxying; handle keeps it.
        matcher: isCatchAll(route) ? "handle" : `${route.strip ? "handle_path" : "handle"} ${route.prefix}*`,
        balanced: route.pool,
      })),
    })),
  });
}

/**
 * The sites as nginx server blocks; `tls` gives each name's certificate and key paths, where
 * `{name}` stands for the site's name (certbot's /etc/letsencrypt/live/{name}/...).
 */
export function nginxSites(vars: SiteVars, tls: { certificate: string; key: string }): string {
  const upstreamName = (site: Site) => `matrixrtc_${site.name.replace(/\W/g, "_")}`;
  const all = sites(vars);
  return render(new URL("nginx.conf.hbs", import.meta.url), {
    sites: all.map((site) => ({
      ...site,
      certificate: tls.certificate.replaceAll("{name}", site.name),
      key: tls.key.replaceAll("{name}", site.name),
      catchAll: site.routes.some(isCatchAll),
      routes: site.routes.map((route) => ({
        ...route,
        upstream: route.pool ? upstreamName(site) : route.upstreams[0],
      })),
    })),
    balanced: all.flatMap((site) =>
      site.routes
        .filter((route) => route.pool)
        .map((route) => ({ name: upstreamName(site), servers: route.upstreams })),
    ),
  });
}

/** How an operator's Traefik gets its certificates: its own ACME resolver, or files ({name}: the site's name). */
export type TraefikTls = { certResolver: string } | { certificate: string; key: string };

/**
 * The sites as a Traefik dynamic configuration (its file provider): a router per route (the prefix
 * stripped where the service expects it), a service per upstream (a pool health-checked). Traefik
 * serves no static body, so the well-known is Synapse's own (`serve_client_wellknown`, the same
 * content), and with it Synapse's federation delegation: `m.server` names matrix_server_name on 443.
 */
export function traefikSites(vars: SiteVars, tls: TraefikTls, entryPoints?: string[]): string {
  const slug = (text: string) => text.replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "") || "root";
  const routers: Record<string, unknown> = {};
  const services: Record<string, unknown> = {};
  const middlewares: Record<string, unknown> = {};
  const routerTls = "certResolver" in tls ? { certResolver: tls.certResolver } : {};
  const add = (
    site: string,
    path: { prefix?: string; exact?: string },
    route: Pick<Route, "upstreams" | "strip" | "pool">,
  ) => {
    const name = `matrixrtc-${slug(site)}-${slug(path.exact ?? path.prefix!)}`;
    const match = path.exact
      ? ` && Path(\`${path.exact}\`)`
      : path.prefix === "/"
        ? ""
        : ` && PathPrefix(\`${path.prefix}\`)`;
    const strip = route.strip ? [`${name}-strip`] : [];
    if (route.strip) middlewares[`${name}-strip`] = { stripPrefix: { prefixes: [path.prefix!.replace(/\/$/, "")] } };
    routers[name] = {
      rule: `Host(\`${site}\`)${match}`,
      service: name,
      ...(strip.length ? { middlewares: strip } : {}),
      ...(entryPoints ? { entryPoints } : {}),
      tls: routerTls,
    };
    services[name] = {
      loadBalancer: {
        servers: route.upstreams.map((u) => ({ url: `http://${u}` })),
        ...(route.pool ? { healthCheck: { path: "/", interval: "10s", timeout: "3s" } } : {}),
      },
    };
  };
  const synapse = [vars.caddy_synapse_upstream ?? publishedAt(vars, vars.synapse_port)];
  for (const site of sites(vars)) {
    if (site.wellKnown && vars.homeserver === "synapse") {
      add(site.name, { exact: "/.well-known/matrix/client" }, { upstreams: synapse });
      if (site.wellKnown.server) {
        add(site.name, { exact: "/.well-known/matrix/server" }, { upstreams: synapse });
        add(site.name, { prefix: "/_matrix/" }, { upstreams: synapse });
      }
    }
    for (const route of site.routes) add(site.name, { prefix: route.prefix }, route);
  }
  const files =
    "certificate" in tls
      ? sites(vars).map((site) =>
          JSON.stringify({
            certFile: tls.certificate.replaceAll("{name}", site.name),
            keyFile: tls.key.replaceAll("{name}", site.name),
          }),
        )
      : [];
  const certificates = files.length
    ? { tls: { certificates: [...new Set(files)].map((file) => JSON.parse(file) as unknown) } }
    : {};
  return stringify(
    { http: { routers, ...(Object.keys(middlewares).length ? { middlewares } : {}), services }, ...certificates },
    { aliasDuplicateObjects: false },
  );
}
