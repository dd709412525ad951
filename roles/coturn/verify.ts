import { lookup } from "node:dns/promises";
import { localCheck } from "../../src/rigger.js";
import { turnHost } from "../matrixrtc/index.js";
import { allocateRelay, mintedCredential } from "./turn-allocation.js";
import type { CoturnVars } from "./vars.js";

/** Where clients reach coturn: turn_ip when it listens on one address alone, else the host's public_ip. */
export const turnAddress = (vars: CoturnVars) => vars.turn_ip ?? vars.public_ip;

/**
 * turn_host, looked up as a client on this machine would: where DNS answers, it must lead to coturn
 * (clients open TURN to that name, and a browser checks TURN over TLS's certificate against it).
 */
export function turnHostResolves(vars: CoturnVars) {
  const [name, address] = [turnHost(vars), turnAddress(vars)];
  return localCheck({
    name: "turn_host leads to coturn where DNS answers",
    failure: `${name} does not lead to coturn at ${address}: clients would ask another server for TURN`,
    run: async () => {
      const found = await lookup(name, { all: true }).catch((error: NodeJS.ErrnoException) => {
        if (error.code === "ENOTFOUND" || error.code === "EAI_AGAIN") return undefined;
        throw error;
      });
      if (!found) return `${name} has no DNS answer on this machine: clients need one, leading to ${address}`;
      const addresses = found.map((entry) => entry.address);
      if (!addresses.includes(address)) throw new Error(`${name} resolves to ${addresses.join(", ")}, not ${address}`);
      return `${name} resolves to ${addresses.join(", ")}`;
    },
  });
}

/** A relay allocated, over UDP from the controller as from a client, with credentials LiveKit would hand a participant. */
export function relaysForLivekitCredentials(vars: CoturnVars) {
  const address = turnAddress(vars);
  return localCheck({
    name: "coturn relays for credentials minted as LiveKit mints them",
    failure: `coturn at ${address}:3478 gave no relay to credentials minted from turn_shared_secret as LiveKit mints them: calls that need a relay fail`,
    run: async () => {
      const { username, credential } = mintedCredential(vars.turn_shared_secret, "rigger-verify");
      const relay = await allocateRelay({ host: address, port: 3478, username, credential, timeoutMs: 5000 });
      return `relay ${relay.relayed} allocated to ${username} at ${address}:3478 (UDP), seen from ${relay.mapped}, and given back`;
    },
  });
}
