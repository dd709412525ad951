import { z } from "zod";
import {
  backupPlace,
  backupTimeout,
  image,
  metricsClients,
  metricsPort,
  placement,
  postgresPassword,
  shape,
  synapseDatabase,
} from "../matrixrtc/index.js";

export const postgresVars = z.object({
  ...placement,
  homeserver: shape.homeserver,
  ...synapseDatabase,
  ...postgresPassword,
  ...backupPlace,
  ...backupTimeout,
  /** The official image: its entry point makes the database on first start from the POSTGRES_* settings. */
  postgres_image: image.default("docker.io/library/postgres:17.6-bookworm"),
  /** The database's files (the image's PGDATA); a backup is a dump of it (playbooks/backup.ts), never a copy. */
  postgres_data_dir: z.string().startsWith("/").default("/var/lib/matrixrtc/postgres"),
  /** The image's postgres user, who owns the data and reads the password file. */
  postgres_uid: z.number().int().min(0).default(999),
  ...metricsClients,
  /** PostgreSQL's Prometheus exporter, run with metrics_clients (as the image's postgres user, who reads the password file). */
  postgres_exporter_image: image.default("quay.io/prometheuscommunity/postgres-exporter:v0.17.1"),
  /** Where the exporter's metrics are published for metrics_clients. */
  postgres_exporter_port: metricsPort("postgres"),
});

export type PostgresVars = z.output<typeof postgresVars>;
