/**
 * An operator's Traefik on a test host, as operators install it: the binary (built from Traefik's
 * Go module by images.sh), a systemd unit, a static configuration with 80 and 443 and the file
 * provider reading rigger's traefik.yaml, and one certificate for every name (operatorCertificates).
 */
import { existsSync, readFileSync } from "node:fs";
import type { SshConnection } from "../../src/connection/ssh.js";
import { testbedCache } from "../testbed/testbed.js";
import { operatorCertificates } from "./operator-nginx.js";

/** What leaves the host quiet again: Traefik gone with its config and certificates. */
export const TEAR_DOWN_TRAEFIK =
  "systemctl disable --now traefik >/dev/null 2>&1; rm -rf /etc/traefik /usr/local/bin/traefik /etc/systemd/system/traefik.service /etc/ssl/rigger-test; systemctl daemon-reload; true";

/** The operator's reload: Traefik restarted, and back on 443 with the file read. */
export const TRAEFIK_RELOAD =
  "systemctl restart traefik && timeout 20 sh -c 'until curl -sk -o /dev/null https://127.0.0.1/; do sleep 0.2; done' && sleep 1";

const STATIC_CONFIG = `entryPoints:
  web:
    address: ":80"
  websecure:
    address: ":443"
providers:
  file:
    filename: /etc/matrixrtc/proxy/traefik.yaml
log:
  level: INFO
`;

const UNIT = `[Unit]
Description=the operator's Traefik
After=network-online.target

[Service]
ExecStart=/usr/local/bin/traefik --configFile=/etc/traefik/traefik.yaml
Restart=on-failure

[Install]
WantedBy=multi-user.target
`;

export async function operatorTraefik(host: SshConnection, dir: string): Promise<{ caFile: string }> {
  const binary = testbedCache("traefik");
  if (!existsSync(binary))
    throw new Error(`no ${binary}: build it with \`bash test/testbed/images.sh\` (npm test does)`);
  const { caFile } = await operatorCertificates(host, dir);
  await host.exec("mkdir -p /etc/traefik");
  await host.putFile("/usr/local/bin/traefik", readFileSync(binary), 0o755);
  await host.putFile("/etc/traefik/traefik.yaml", STATIC_CONFIG, 0o644);
  await host.putFile("/etc/systemd/system/traefik.service", UNIT, 0o644);
  const started = await host.exec(
    "systemctl daemon-reload && systemctl enable --now traefik && /usr/local/bin/traefik version",
  );
  if (started.code !== 0) throw new Error(`traefik did not start: ${started.stderr}`);
  return { caFile };
}
