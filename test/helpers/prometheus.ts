/** The operator's Prometheus on a test host (Debian's package), set up as roles/monitoring/README.md tells, and what it says. */
import { readFileSync } from "node:fs";
import { createServer } from "node:http";
import type { SshConnection } from "../../src/connection/ssh.js";

/** Installs Debian's Prometheus on the host, as an operator does; its version line. */
export async function installPrometheus(host: SshConnection): Promise<string> {
  const installed = await host.exec(
    "apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus >/dev/null && prometheus --version 2>&1 | head -n 1",
  );
  if (installed.code !== 0) throw new Error(`prometheus could not be installed: ${installed.stderr}`);
  return installed.stdout.trim();
}

/**
 * node_exporter's textfile collector, as far as rigger's --metrics file goes: the file served at
 * /metrics from this machine (where cron would run rigger), on every address.
 */
export async function textfileCollector(file: string): Promise<{ port: number; close(): void }> {
  const server = createServer((_request, response) => {
    let text = "";
    try {
      text = readFileSync(file, "utf8");
    } catch {
      // No run has written it yet: an empty scrape, as the collector gives.
    }
    response.writeHead(200, { "content-type": "text/plain; version=0.0.4" });
    response.end(text);
  });
  await new Promise<void>((resolve) => server.listen(0, "0.0.0.0", resolve));
  return { port: (server.address() as { port: number }).port, close: () => server.close() };
}

/**
 * prometheus.yml as the README says to write it on Prometheus 2.42 (no scrape_config_files): the
 * rules file under rule_files, scrape.yml's job under scrape_configs, beside the operator's own job
 * for node_exporter (here, the textfile collector at `textfile`). Checked by promtool and loaded.
 */
export async function configurePrometheus(host: SshConnection, textfile: string): Promise<void> {
  const scrape = (await host.exec("cat /etc/prometheus/matrixrtc/scrape.yml")).stdout;
  const config = [
    "global: { scrape_interval: 5s, evaluation_interval: 5s }",
    "rule_files: [/etc/prometheus/matrixrtc/rules.yml]",
    scrape.replace(/^#.*\n/gm, "").trimEnd(),
    "  - job_name: node",
    `    static_configs: [{ targets: ["${textfile}"] }]`,
    "",
  ].join("\n");
  await host.putFile("/etc/prometheus/prometheus.yml", config, 0o644);
  const loaded = await host.exec("promtool check config /etc/prometheus/prometheus.yml && systemctl reload prometheus");
  if (loaded.code !== 0) throw new Error(`prometheus.yml refused: ${loaded.stdout}${loaded.stderr}`);
}

/** The names of the alerts Prometheus has firing now. */
export async function firingAlerts(host: SshConnection): Promise<string[]> {
  const answer = await host.exec("curl -fsS http://127.0.0.1:9090/api/v1/alerts");
  const alerts = JSON.parse(answer.stdout).data.alerts as Array<{ state: string; labels: { alertname: string } }>;
  return [...new Set(alerts.filter((a) => a.state === "firing").map((a) => a.labels.alertname))].sort();
}

/** Waits until the firing alerts pass `test`; they, or the last seen when the time is up. */
export async function alertsWhen(
  host: SshConnection,
  test: (firing: string[]) => boolean,
  seconds: number,
): Promise<string[]> {
  const deadline = Date.now() + seconds * 1000;
  let firing = await firingAlerts(host);
  while (!test(firing) && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 3000));
    firing = await firingAlerts(host);
  }
  return firing;
}
