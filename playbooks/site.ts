import { definePlaybook, use } from "../src/rigger.js";
import backup from "../roles/backup/index.js";
import caddy from "../roles/caddy/index.js";
import callProbe from "../roles/call_probe/index.js";
import coturn from "../roles/coturn/index.js";
import docker from "../roles/docker/index.js";
import elementCall from "../roles/element_call/index.js";
import existingHomeserver from "../roles/existing_homeserver/index.js";
import firewall from "../roles/firewall/index.js";
import kernel from "../roles/kernel/index.js";
import livekit from "../roles/livekit/index.js";
import livekitWebhook from "../roles/livekit_webhook/index.js";
import lkJwt from "../roles/lk_jwt/index.js";
import ownProxy from "../roles/own_proxy/index.js";
import postgres from "../roles/postgres/index.js";
import redis from "../roles/redis/index.js";
import synapse from "../roles/synapse/index.js";
import { hostsOf } from "../roles/matrixrtc/index.js";
import monitoring from "../roles/monitoring/index.js";

/**
 * The MatrixRTC backend in its rollout order (docs/matrixrtc.md, "Rollout order"). One host runs everything
 * when it is in the group `matrixrtc`; a split deployment puts hosts in `proxy`, `redis`, `sfu`,
 * `homeserver` and `turn` instead. The shape variables (`proxy`, `homeserver`, `element_call_enabled`,
 * `well_known_enabled`) leave out what the operator's own servers already do. Each role waits for its service's health before the next starts.
 * The firewall, first, opens what every later role on that host declares.
 */
export default definePlaybook([
  { name: "host layer", hosts: hostsOf("proxy", "redis", "sfu", "homeserver", "turn"), roles: [docker, firewall] },
  { name: "proxy", hosts: hostsOf("proxy"), roles: [caddy] },
  { name: "redis", hosts: hostsOf("redis"), roles: [redis] },
  // Socket buffers for media; LiveKit reads them when it starts, so a change restarts it.
  // Nodes one at a time, then half of them at once, each batch healthy before the next; a
  // restart drains the node first (its calls end on their own, new ones go to the other nodes).
  // A node whose upgrade does not come up gets its previous container and config back.
  {
    name: "sfu",
    hosts: hostsOf("sfu"),
    serial: [1, "50%"],
    rollback: true,
    roles: [use(kernel, { kernel_notify: ["restart livekit"] }), livekit],
  },
  // Synapse on its PostgreSQL, with its backups (first: a data-holding container's upgrade backs up before it is replaced);
  // or (homeserver: existing) the checks of the operator's homeserver.
  {
    name: "homeserver",
    hosts: hostsOf("homeserver"),
    roles: [lkJwt, backup, postgres, synapse, existingHomeserver],
  },
  // Each node's webhook reaches the jwt service, now that it runs.
  { name: "sfu webhook", hosts: hostsOf("sfu"), roles: [livekitWebhook] },
  { name: "turn", hosts: hostsOf("turn"), roles: [coturn] },
  { name: "element call", hosts: hostsOf("homeserver"), roles: [elementCall] },
  // proxy: own: the snippets for the operator's proxy, and every route proven through it, now that the services run.
  { name: "own proxy", hosts: hostsOf("proxy"), roles: [ownProxy] },
  // With -e call_probe=true: two Matrix users make a call through it all, from here.
  { name: "call", hosts: hostsOf("homeserver"), roles: [callProbe] },
  // Your Prometheus, on the hosts of the group `prometheus`: the scrape targets of every host with
  // metrics_clients, and the alert rules (role monitoring).
  { name: "monitoring", hosts: "prometheus", roles: [monitoring] },
]);
