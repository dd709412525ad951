/**
 * The metrics shape: with metrics_clients set, each service opens its Prometheus endpoint to those
 * addresses only. One table of where each one listens, read by the services' roles and by role
 * monitoring, which writes the scrape targets.
 */
import { dockerContainerAbsent, type Operation, type PortRule } from "../../src/rigger.js";
import { serviceContainer } from "./containers.js";
import { port } from "./schemas.js";

/** Each service's metrics endpoint: its port on the host (by default) and its path. */
export const METRICS = {
  livekit: { port: 6789, path: "/metrics" },
  synapse: { port: 9000, path: "/_synapse/metrics" },
  caddy: { port: 9180, path: "/metrics" },
  coturn: { port: 9641, path: "/metrics" },
  postgres: { port: 9187, path: "/metrics" },
  redis: { port: 9121, path: "/metrics" },
} as const;

export type MetricsService = keyof typeof METRICS;

/** The setting of a service's metrics port, defaulted to the table's. */
export const metricsPort = (service: MetricsService) => port.default(METRICS[service].port);

/** The firewall rule that admits metrics_clients, and no one else, to a metrics port. */
export const metricsRule = (vars: { metrics_clients: string[] }, service: MetricsService, at: number): PortRule => ({
  protocol: "tcp",
  port: at,
  sources: vars.metrics_clients,
  comment: `${service}: Prometheus metrics`,
});

type Exporter = Parameters<typeof serviceContainer>[1] & { service: "postgres" | "redis"; port: number };

/**
 * A service's Prometheus exporter, beside it on the services' network, its port published for
 * metrics_clients (the firewall admits no one else); taken away when there are none.
 */
export const exporterContainer = (
  vars: { matrixrtc_network: string; metrics_clients: string[] },
  { service, port: at, ...spec }: Exporter,
): Operation[] =>
  vars.metrics_clients.length
    ? serviceContainer(vars, { ...spec, ports: [{ hostPort: at, containerPort: METRICS[service].port }] })
    : [dockerContainerAbsent(spec.name)];
