import { z } from "zod";
import { placement } from "../matrixrtc/index.js";
import { siteVars } from "../sites/index.js";

/** Written double-quoted into nginx's config: spaces are fine; a quote, backslash, `$` (a variable to nginx) or `;` is not. */
const certificatePath = z
  .string()
  .startsWith("/", "expected an absolute path; {name} stands for each site's name")
  .regex(/^[^"\\$;\n\r]*$/, 'expected a path without ", \\, $, ; or a line break (nginx would read them as syntax)');

export const ownProxyVars = z.object({
  ...siteVars,
  ...placement,
  /** Where the snippets are written on the proxy host: nginx.conf, Caddyfile and traefik.yaml. */
  own_proxy_dir: z.string().startsWith("/").default("/etc/matrixrtc/proxy"),
  /** Each name's certificate and key for the nginx snippet; {name} is the site's name (certbot's layout by default). */
  own_proxy_tls_certificate: certificatePath.default("/etc/letsencrypt/live/{name}/fullchain.pem"),
  own_proxy_tls_key: certificatePath.default("/etc/letsencrypt/live/{name}/privkey.pem"),
  /** For the Traefik file: the certificate resolver of the operator's Traefik (its ACME); unset, the files above. */
  own_proxy_traefik_cert_resolver: z
    .string()
    .regex(/^[\w-]+$/, "expected the name of a certificatesResolvers entry")
    .optional(),
  /** For the Traefik file: the entry points its routers listen on (e.g. [websecure]); unset, every entry point with TLS. */
  own_proxy_traefik_entrypoints: z
    .array(z.string().regex(/^[\w-]+$/, "expected an entry point's name"))
    .min(1)
    .optional(),
  /**
   * A command that makes the proxy read a changed snippet, e.g. `nginx -t && systemctl reload nginx`;
   * unset: rigger writes the snippets and the operator reloads.
   */
  own_proxy_reload: z.string().min(1).optional(),
});

export type OwnProxyVars = z.output<typeof ownProxyVars>;
