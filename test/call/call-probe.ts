/**
 * A two-party call through a deployed stack, with the real LiveKit client (@livekit/rtc-node):
 * both participants join the room their tokens name at the URL the jwt service handed out, one
 * publishes an audio track, the other counts the frames it receives. Reads {url, publisher,
 * subscriber, frames, timeoutMs, holdMs} as JSON on stdin; prints the outcome as JSON, with a
 * one-line reason when media did not flow.
 */
import { AudioFrame, AudioSource, AudioStream, LocalAudioTrack, Room, RoomEvent, TrackPublishOptions, TrackSource, dispose, type RemoteTrack } from "@livekit/rtc-node";

interface Request {
  url: string;
  publisher: string;
  subscriber: string;
  frames: number;
  timeoutMs: number;
  /** How long both stay in the call after the frames arrived. */
  holdMs: number;
}

const request = JSON.parse(await new Promise<string>((resolve) => {
  let text = "";
  process.stdin.on("data", (c) => (text += c));
  process.stdin.on("end", () => resolve(text));
})) as Request;

/** The part of an RTC stats entry the probe reads (the FFI's protobuf messages). */
interface Stat {
  stats: {
    case?: string;
    value?: {
      rtc?: { id?: string };
      transport?: { selectedCandidatePairId?: string };
      candidatePair?: { nominated?: boolean; remoteCandidateId?: string; bytesReceived?: bigint };
      candidate?: { protocol?: string; address?: string; port?: number };
    };
  };
}

/** The ICE path media took: the remote end of the transport's selected candidate pair ("udp 203.0.113.10:7882"). */
function icePath(stats: Stat[]): string {
  const values = stats.map((s) => s.stats);
  const of = (kind: string) => values.filter((s) => s.case === kind).map((s) => s.value!);
  const selected = of("transport").map((t) => t.transport?.selectedCandidatePairId).find(Boolean);
  const pairs = of("candidatePair");
  const pair = (pairs.find((p) => p.rtc?.id === selected) ?? pairs.find((p) => p.candidatePair?.nominated))?.candidatePair;
  const remote = of("remoteCandidate").find((c) => c.rtc?.id === pair?.remoteCandidateId)?.candidate;
  return remote ? `${remote.protocol} ${remote.address}:${remote.port}` : `unknown (stats: ${[...new Set(values.map((s) => s.case))].join(", ")})`;
}

const SAMPLE_RATE = 48000;
const SAMPLES = SAMPLE_RATE / 100; // 10 ms frames

async function main() {
  const started = Date.now();
  const publisher = new Room();
  const subscriber = new Room();
  let received = 0;
  let firstFrameMs: number | undefined;
  const enough = new Promise<void>((resolve) => {
    subscriber.on(RoomEvent.TrackSubscribed, async (track: RemoteTrack) => {
      for await (const _frame of new AudioStream(track, SAMPLE_RATE, 1)) {
        firstFrameMs ??= Date.now() - started;
        if (++received >= request.frames) return resolve();
      }
    });
  });
  await subscriber.connect(request.url, request.subscriber, { autoSubscribe: true, dynacast: false });
  await publisher.connect(request.url, request.publisher, { autoSubscribe: false, dynacast: false });
  const source = new AudioSource(SAMPLE_RATE, 1);
  const track = LocalAudioTrack.createAudioTrack("probe-tone", source);
  const options = new TrackPublishOptions();
  options.source = TrackSource.SOURCE_MICROPHONE;
  await publisher.localParticipant!.publishTrack(track, options);
  const samples = new Int16Array(SAMPLES);
  let sending = true;
  const send = (async () => {
    for (let t = 0; sending; t++) {
      for (let i = 0; i < SAMPLES; i++) samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * (t * SAMPLES + i)) / SAMPLE_RATE));
      await source.captureFrame(new AudioFrame(samples, SAMPLE_RATE, 1, SAMPLES));
    }
  })();
  const timedOut = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), request.timeoutMs));
  const outcome = await Promise.race([enough.then(() => "ok" as const), timedOut]);
  if (outcome === "ok") await new Promise((r) => setTimeout(r, request.holdMs));
  sending = false;
  await send.catch(() => undefined);
  const sessions = await Promise.all([subscriber.getRtcStats(), publisher.getRtcStats()]);
  const path = icePath(sessions.flatMap((s) => [...(s.subscriberStats ?? []), ...(s.publisherStats ?? [])]) as unknown as Stat[]);
  await Promise.all([publisher.disconnect(), subscriber.disconnect()]);
  const ok = outcome === "ok";
  const error = ok ? undefined : `no media: ${received} of ${request.frames} frames within ${request.timeoutMs} ms (path: ${path})`;
  return { ok, received, firstFrameMs, icePath: path, ms: Date.now() - started, ...(error ? { error } : {}) };
}

/** Why a participant could not join, in one line an operator can act on. */
function reason(message: string): string {
  if (/does not exist/i.test(message)) return `the room does not exist on LiveKit and this token may not create it (auto_create is false): ${message}`;
  if (/pc connection|ice|timeout|timed out/i.test(message)) return `no media path to the SFU (its UDP/TCP ports blocked on the way?): ${message}`;
  return message;
}

try {
  console.log(JSON.stringify(await main()));
} catch (error) {
  console.log(JSON.stringify({ ok: false, error: reason((error as Error).message.split("\n")[0]!) }));
} finally {
  await dispose();
  process.exit(0);
}
