import { z } from "zod";
import { ipAddress, metricsClients, metricsPort, pemCertificates, turnTls } from "../matrixrtc/index.js";
import { siteVars } from "../sites/index.js";

export const caddyVars = z
  .object({
    ...siteVars,
    /** "acme": certificates from Let's Encrypt (the default); "internal": Caddy's own CA (tests, trying it out); "files": your own. */
    caddy_tls: z.enum(["acme", "internal", "files"]).default("acme"),
    /** With caddy_tls "files": the certificate chain and key on the host (one certificate for every hostname). */
    caddy_tls_certificate: z.string().startsWith("/").optional(),
    /** With caddy_tls "files": the certificate's private key on the host. */
    caddy_tls_key_path: z.string().startsWith("/").optional(),
    /** The ACME account's contact address (recommended with "acme"). */
    caddy_acme_email: z.string().email().optional(),
    /** With "acme": the ACME server's directory; Let's Encrypt's by default. */
    caddy_acme_ca: z.url({ protocol: /^https$/ }).default("https://acme-v02.api.letsencrypt.org/directory"),
    /** With "acme": the root (PEM) of the ACME server's own HTTPS certificate, for a private ACME server (step-ca, Pebble). */
    caddy_acme_ca_root: pemCertificates.optional(),
    /** Your DNS has the SRV record _matrix-fed._tcp.<matrix_server_name> pointing at the homeserver: delegation may then be off. */
    caddy_federation_srv: z.boolean().default(false),
    /**
     * The addresses Caddy listens on (its default_bind); empty: all of the host's. Derived when coturn
     * holds 443 on turn_ip on this host: private_ip (else public_ip) and 127.0.0.1. A host that also
     * serves IPv6 adds its IPv6 address.
     */
    caddy_bind: z.array(ipAddress).default([]),
    turn_ip: turnTls.turn_ip,
    /** Caddyfile text appended after the role's sites (more sites, snippets); validated with the rest. */
    caddy_config_extra: z.string().default(""),
    ...metricsClients,
    /** Where Caddy serves its metrics (each upstream's health among them) to metrics_clients, when there are any. */
    caddy_metrics_port: metricsPort("caddy"),
  })
  .superRefine((vars, ctx) => {
    // The trap is rigger's own homeserver's: an existing one's federation is its operator's.
    if (vars.homeserver === "synapse" && !vars.caddy_federation_delegated && !vars.caddy_federation_srv)
      ctx.addIssue({
        code: "custom",
        path: ["caddy_federation_delegated"],
        message:
          "is false, and nothing else leads to the homeserver's federation API (nothing listens on 8448): the jwt service checks every user's OpenID token there, so every token request fails (401); keep it true, or publish the SRV record _matrix-fed._tcp.<matrix_server_name> and set caddy_federation_srv: true",
      });
    if (vars.turn_ip && vars.caddy_bind.includes(vars.turn_ip))
      ctx.addIssue({
        code: "custom",
        path: ["turn_ip"],
        message: `${vars.turn_ip} is an address Caddy serves 443 on (caddy_bind ${vars.caddy_bind.join(", ")}): coturn's TURN over TLS on 443 needs a second address of the host, which DNS gives turn_host`,
      });
    if (vars.caddy_tls === "files" && !(vars.caddy_tls_certificate && vars.caddy_tls_key_path))
      ctx.addIssue({
        code: "custom",
        path: ["caddy_tls"],
        message: 'with caddy_tls "files", set caddy_tls_certificate and caddy_tls_key_path',
      });
  });

export type CaddyVars = z.output<typeof caddyVars>;
