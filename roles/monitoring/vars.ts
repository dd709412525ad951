import { z } from "zod";
import { backupAge, hostname, ipAddress, METRICS, port } from "../matrixrtc/index.js";

const service = z.enum(Object.keys(METRICS) as [keyof typeof METRICS, ...Array<keyof typeof METRICS>]);

/** One metrics endpoint Prometheus scrapes: which service, on which inventory host, at which address and port. */
export const target = z.object({ service, host: z.string().min(1), address: z.union([ipAddress, hostname]), port });

export type Target = z.output<typeof target>;

export const monitoringVars = z.object({
  /** Where the scrape configuration, its targets and the alert rules are written on the Prometheus host. */
  prometheus_config_dir: z.string().startsWith("/").default("/etc/prometheus/matrixrtc"),
  /** Prometheus's HTTP API on its host, where verify asks what it loaded and scrapes. */
  prometheus_url: z.url().default("http://127.0.0.1:9090"),
  /** Makes Prometheus read changed rules (Debian's unit sends it SIGHUP); targets it reads by itself. */
  prometheus_reload: z.string().min(1).default("systemctl reload prometheus"),
  /**
   * The metrics endpoints to scrape; by default every endpoint of every inventory host that sets
   * metrics_clients, each at its private_ip (else public_ip) and the port its role publishes.
   */
  monitoring_targets: z.array(target).default([]),
  ...backupAge,
  /** How many days before a certificate expires its alert fires (Caddy renews 30 days ahead). */
  monitoring_certificate_days: z.number().int().min(1).default(14),
  /** How old rigger's last run from cron (--metrics) may grow before its alert fires; for a daily check, a day and two hours. */
  monitoring_rigger_run_max_age_hours: z.number().int().min(1).default(26),
});

export type MonitoringVars = z.output<typeof monitoringVars>;
