/**
 * Rooms of browsers on a deployed stack, and what they cost the SFU: shared by the stack suite's
 * crowd test and the bench's participants rows.
 */
import type { Browser } from "playwright-core";
import type { SshConnection } from "../../src/connection/ssh.js";
import type { stackClient } from "../helpers/matrix-client.js";
import { NAMES } from "../helpers/stack.js";
import { readFileSync } from "node:fs";
import { browserParticipant, launchBrowser, type CallParams, type CallResult } from "./browser.js";

type StackClient = ReturnType<typeof stackClient>;

/** Every name of the deployment at the proxy host, but where `addresses` says otherwise. */
export const stackAddresses = (proxyIp: string, addresses: Record<string, string> = {}) => ({
  ...Object.fromEntries(Object.values(NAMES).map((name) => [name, proxyIp])),
  ...addresses,
});

/** A browser that finds the deployment's names (see stackAddresses) and trusts Caddy's CA. */
export async function browserOnStack(client: StackClient, proxyIp: string, addresses: Record<string, string> = {}) {
  return launchBrowser({
    addresses: stackAddresses(proxyIp, addresses),
    caPem: readFileSync(await client.caddyCa(), "utf8"),
  });
}

export type RoomParams = Pick<CallParams, "participants" | "seconds" | "path" | "video" | "camera">;

/** `participants` new users of the homeserver in one room, each in a page of its own, on Element Call's origin. */
export async function browsersInRoom(
  browser: Browser,
  client: StackClient,
  room: string,
  params: RoomParams,
): Promise<CallResult[]> {
  const stamp = Date.now();
  const users = await Promise.all(
    Array.from({ length: params.participants }, (_, i) => client.register(`p${i}x${stamp}`)),
  );
  return Promise.all(
    users.map((user) =>
      browserParticipant(browser, NAMES.element_call_host, {
        ...params,
        serverName: NAMES.matrix_server_name,
        user: user.user_id.slice(1).split(":")[0]!,
        password: user.password,
        room,
      }),
    ),
  );
}

export interface Usage {
  /** The most CPU, in % of one core. */
  cpu: number;
  /** Docker's memory figure at that moment. */
  memory: string;
}

/** What a container of the host used at most while `work` lasted, sampled every 2 s. */
export async function peakUsage<T>(host: SshConnection, container: string, work: Promise<T>): Promise<[T, Usage]> {
  const usage: Usage = { cpu: 0, memory: "" };
  for (let done = false; !done;) {
    done = await Promise.race([work.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 2000))]);
    const stats = await host.exec(`docker stats --no-stream --format '{{.CPUPerc}} {{.MemUsage}}' ${container}`);
    const [cpu, memory] = stats.stdout.split(" ");
    if (parseFloat(cpu!) > usage.cpu) Object.assign(usage, { cpu: parseFloat(cpu!), memory });
  }
  return [await work, usage];
}

/** The share of one participant's audio lost while the call was held, everyone joined (joining is not the call). */
export function heldLoss({ timeline }: CallResult): number {
  const [first, last] = [timeline[0]!, timeline.at(-1)!];
  const lost = last.packetsLost - first.packetsLost;
  return lost / (lost + last.packetsReceived - first.packetsReceived);
}

/** The worst any participant saw: jitter and round trip in ms, loss while held in %, fewest frames decoded. */
export function worstOf(sides: CallResult[]) {
  const worst = (pick: (side: CallResult) => number) => Math.max(...sides.map(pick));
  return {
    jitterMs: worst((s) => s.audio.jitter) * 1000,
    lossPercent: worst(heldLoss) * 100,
    roundTripMs: worst((s) => s.roundTripTime) * 1000,
    fewestFrames: -worst((s) => -s.video.framesDecoded),
  };
}
