/**
 * An operator's own reverse proxy on a test host: Debian's nginx, with one certificate for every
 * name of the deployment from a throwaway CA that the host (and the controller's clients) trust,
 * as a real server trusts its certbot certificates.
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { SshConnection } from "../../src/connection/ssh.js";
import { NAMES, trustTestAcme } from "./stack.js";

export const NGINX_CERTIFICATE = "/etc/ssl/rigger-test/site.crt";
export const NGINX_KEY = "/etc/ssl/rigger-test/site.key";

/** What leaves the host quiet again: nginx gone with its config. */
export const TEAR_DOWN_NGINX =
  "apt-get purge -y nginx nginx-common >/dev/null 2>&1; rm -rf /etc/nginx /etc/ssl/rigger-test; true";

/** A CA and a certificate for every deployment name, made in `dir` on the controller; returns the CA's file. */
function certificates(dir: string): string {
  const run = (args: string[]) => execFileSync("openssl", args, { cwd: dir, stdio: "pipe" });
  const key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  run([
    "req",
    "-x509",
    ...key,
    "-days",
    "2",
    "-subj",
    "/CN=rigger-test-operator-ca",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
  ]);
  run(["req", ...key, "-subj", `/CN=${NAMES.matrix_host}`, "-keyout", "site.key", "-out", "site.csr"]);
  writeFileSync(
    join(dir, "san.ext"),
    `subjectAltName=${Object.values(NAMES)
      .map((name) => `DNS:${name}`)
      .join(",")}\n`,
  );
  run([
    "x509",
    "-req",
    "-in",
    "site.csr",
    "-CA",
    "ca.pem",
    "-CAkey",
    "ca.key",
    "-CAcreateserial",
    "-days",
    "2",
    "-extfile",
    "san.ext",
    "-out",
    "site.crt",
  ]);
  return join(dir, "ca.pem");
}

/** The certificate and key on the host, and its CA trusted there as a public one would be. */
export async function operatorCertificates(host: SshConnection, dir: string): Promise<{ caFile: string }> {
  const caFile = certificates(dir);
  const made = await host.exec("mkdir -p /etc/ssl/rigger-test");
  if (made.code !== 0) throw new Error(made.stderr);
  await host.putFile(NGINX_CERTIFICATE, readFileSync(join(dir, "site.crt"), "utf8"), 0o644);
  await host.putFile(NGINX_KEY, readFileSync(join(dir, "site.key"), "utf8"), 0o600);
  await trustTestAcme(host, readFileSync(caFile, "utf8"));
  return { caFile };
}

/**
 * Installs nginx on the host with the certificate, includes rigger's snippet (through a pattern,
 * which may match nothing until the first run writes it) and the operator's own `sites` config.
 */
export async function operatorNginx(host: SshConnection, dir: string, sites = ""): Promise<{ caFile: string }> {
  const installed = await host.exec(
    "apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nginx >/dev/null",
  );
  if (installed.code !== 0) throw new Error(`nginx did not install: ${installed.stderr}`);
  const { caFile } = await operatorCertificates(host, dir);
  await host.putFile("/etc/nginx/conf.d/matrixrtc.conf", "include /etc/matrixrtc/proxy/nginx*.conf;\n", 0o644);
  await writeOperatorSites(host, sites);
  return { caFile };
}

/** The operator's own server blocks (their homeserver's), nginx reloaded. */
export async function writeOperatorSites(host: SshConnection, sites: string): Promise<void> {
  await host.putFile("/etc/nginx/conf.d/operator.conf", sites, 0o644);
  const reloaded = await host.exec("nginx -t && systemctl reload nginx");
  if (reloaded.code !== 0) throw new Error(`nginx refused the config: ${reloaded.stderr}`);
}
