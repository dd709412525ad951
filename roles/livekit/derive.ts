/** What other roles read of LiveKit's: its split-deployment defaults, its webhook's URL, its API as the host reaches it. */
import type { Fleet } from "../../src/rigger.js";
import { derivedWhen, groupAddresses, jwtWebhookUrl, publishedAt } from "../matrixrtc/index.js";

/** A split deployment: the `proxy` group's Caddy reaches the API, the `redis` group's Redis is shared. */
export const livekitDerived = (fleet: Fleet) => ({
  ...derivedWhen(groupAddresses(fleet, "proxy"), (proxies) => ({ livekit_api_clients: proxies })),
  ...derivedWhen(groupAddresses(fleet, "redis"), ([redis]) => ({ livekit_redis_address: `${redis}:6379` })),
});

/** The jwt service runs beside LiveKit unless Caddy (and with it the homeserver) is on other hosts. */
export const webhookUrl = (
  vars: Parameters<typeof jwtWebhookUrl>[0] & { livekit_api_clients: string[]; livekit_webhook_url?: string },
) => vars.livekit_webhook_url ?? jwtWebhookUrl(vars, vars.livekit_api_clients.length === 0);

/** LiveKit's API as the host's own probes reach it: on every address when other hosts' proxies use it, else on the bind address. */
export const livekitApiOnHost = (vars: {
  livekit_api_clients: string[];
  matrixrtc_bind_address: string;
  livekit_port: number;
}) =>
  `http://${vars.livekit_api_clients.length ? `127.0.0.1:${vars.livekit_port}` : publishedAt(vars, vars.livekit_port)}`;
