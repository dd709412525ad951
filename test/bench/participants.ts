/**
 * The participants a host holds, for `npm run bench`: the stack deployed on a fresh test host (th1),
 * then one room after another of `counts` browsers (Debian's Chromium on this machine, each sending
 * audio and 160x120 video at 10 frames a second, receiving everyone else's), held 10 s. Each row:
 * LiveKit's peak CPU and memory, and the worst any browser saw. The browsers share this machine's
 * cores with LiveKit: a room that does not hold says so and ends the rows.
 */
import { $ } from "zx";
import { SshConnection } from "../../src/connection/ssh.js";
import { browserOnStack, browsersInRoom, peakUsage, worstOf } from "../browser/crowd.js";
import { stackClient } from "../helpers/matrix-client.js";
import { stackInventory } from "../helpers/stack.js";
import { loadTestbed } from "../testbed/testbed.js";

const HOST = "th1";
const HELD_SECONDS = 10;

export async function participantRows(counts: number[]): Promise<string[]> {
  await $({ quiet: true })`bash test/testbed/hosts.sh up 1 && bash test/testbed/images.sh`;
  const testbed = loadTestbed();
  const inventory = stackInventory(testbed, HOST);
  const deployed = await $({ quiet: true, nothrow: true })`npx tsx run.ts playbooks/site.ts -i ${inventory}`;
  if (deployed.exitCode !== 0)
    return [
      `participants: the stack did not deploy on ${HOST} (exit ${deployed.exitCode}):\n${deployed.stdout.slice(-2000)}`,
    ];
  const proxyIp = testbed.hosts.find((h) => h.name === HOST)!.ip;
  const host = await SshConnection.open(testbed.target(HOST));
  const client = stackClient({ inventory, proxyIp, homeserver: () => host });
  const browser = await browserOnStack(client, proxyIp);
  const rows = [
    `\nparticipants in one room on ${HOST} (browsers on this machine, held ${HELD_SECONDS} s): LiveKit's peak CPU (% of one core) and memory; the worst any browser saw`,
    `${"participants".padEnd(14)}${"LiveKit CPU".padEnd(13)}${"memory".padEnd(22)}${"jitter ms".padEnd(11)}${"lost %".padEnd(9)}round trip ms`,
  ];
  try {
    for (const participants of counts) {
      try {
        const [sides, usage] = await peakUsage(
          host,
          "matrixrtc-livekit",
          browsersInRoom(browser, client, `!bench-${participants}:example.test`, {
            participants,
            seconds: HELD_SECONDS,
            path: "any",
            video: { height: 120, frameRate: 10 },
          }),
        );
        const worst = worstOf(sides);
        rows.push(
          `${String(participants).padEnd(14)}${`${usage.cpu}%`.padEnd(13)}${usage.memory.trim().padEnd(22)}` +
            `${worst.jitterMs.toFixed(0).padEnd(11)}${worst.lossPercent.toFixed(1).padEnd(9)}${worst.roundTripMs.toFixed(0)}`,
        );
      } catch (error) {
        rows.push(`${String(participants).padEnd(14)}did not hold: ${(error as Error).message.split("\n")[0]}`);
        break;
      }
    }
  } finally {
    await browser.close();
    host.close();
  }
  return rows;
}
