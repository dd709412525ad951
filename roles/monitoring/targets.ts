/** The metrics endpoints of the deployment's hosts, as the inventory sets them up: role monitoring's default targets. */
import type { Fleet } from "../../src/rigger.js";
import { DEPLOYMENT_GROUPS, METRICS, type DeploymentPart, type MetricsService } from "../matrixrtc/index.js";
import type { Target } from "./vars.js";

type HostVars = Record<string, unknown>;

interface Endpoint {
  service: MetricsService;
  /** The variable that moves its port (unset: the port of METRICS). */
  portVar?: string;
  /** Whether the host's shape runs it at all. */
  runs?: (vars: HostVars) => boolean;
}

const rigsSynapse = (vars: HostVars) => vars.homeserver !== "existing";

/** Which services serve metrics on a host of each part of the deployment. */
const ENDPOINTS: Record<DeploymentPart, Endpoint[]> = {
  proxy: [{ service: "caddy", portVar: "caddy_metrics_port", runs: (vars) => vars.proxy !== "own" }],
  redis: [{ service: "redis", portVar: "redis_exporter_port" }],
  sfu: [{ service: "livekit", portVar: "livekit_metrics_port" }],
  homeserver: [
    { service: "synapse", portVar: "synapse_metrics_port", runs: rigsSynapse },
    {
      service: "postgres",
      portVar: "postgres_exporter_port",
      runs: (vars) => rigsSynapse(vars) && vars.synapse_database !== "sqlite",
    },
  ],
  turn: [{ service: "coturn", runs: (vars) => vars.coturn_enabled !== false && vars.coturn_metrics === true }],
};

/** Every endpoint of every host that opens its metrics (metrics_clients set), at the address the other hosts reach it at. */
export function deploymentTargets(fleet: Fleet): Target[] {
  const targets = new Map<string, Target>();
  for (const [part, endpoints] of Object.entries(ENDPOINTS) as Array<[DeploymentPart, Endpoint[]]>)
    for (const member of DEPLOYMENT_GROUPS[part].flatMap((group) => fleet.members(group))) {
      const { vars } = member;
      const address = vars.private_ip ?? vars.public_ip;
      if (!Array.isArray(vars.metrics_clients) || !vars.metrics_clients.length || typeof address !== "string") continue;
      for (const { service, portVar, runs } of endpoints)
        if (!runs || runs(vars))
          targets.set(`${member.name} ${service}`, {
            service,
            host: member.name,
            address,
            port: Number((portVar && vars[portVar]) ?? METRICS[service].port),
          });
    }
  return [...targets.values()];
}
