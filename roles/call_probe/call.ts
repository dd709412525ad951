/**
 * A two-party call with the real LiveKit client (@livekit/rtc-node), loaded only when a call is
 * made: both participants join the room their tokens name at the URL the jwt service handed out,
 * one publishes a tone, the other counts the audio frames it receives. The outcome says how many
 * came, when the first did and over which ICE path; or, in one line, why there was no media.
 */
import type { RemoteTrack } from "@livekit/rtc-node";

/** What the jwt service hands a participant: the LiveKit URL and a token for one room. */
export interface Grant {
  url: string;
  jwt: string;
}

export interface CallOptions {
  frames: number;
  timeoutMs: number;
  /** Only through TURN (ICE transport policy relay), as on a network that allows nothing else. */
  relay?: boolean;
  /** How long both stay in the call after the frames arrived (a call going on during a restart). */
  holdMs?: number;
}

export interface CallOutcome {
  ok: boolean;
  received?: number;
  firstFrameMs?: number;
  /** The remote end of the selected ICE candidate pair, e.g. "udp 203.0.113.10:7882", after "relay udp, then " when coturn carried it. */
  icePath?: string;
  ms?: number;
  error?: string;
}

/** The part of an RTC stats entry read here (the FFI's protobuf messages). */
interface Stat {
  stats: {
    case?: string;
    value?: {
      rtc?: { id?: string };
      transport?: { selectedCandidatePairId?: string };
      candidatePair?: { nominated?: boolean; remoteCandidateId?: string; localCandidateId?: string };
      candidate?: {
        protocol?: string;
        address?: string;
        port?: number;
        candidateType?: number;
        relayProtocol?: number;
      };
    };
  };
}

function icePath(stats: Stat[]): string {
  const values = stats.map((s) => s.stats);
  const of = (kind: string) => values.filter((s) => s.case === kind).map((s) => s.value!);
  const selected = of("transport")
    .map((t) => t.transport?.selectedCandidatePairId)
    .find(Boolean);
  const pairs = of("candidatePair");
  const pair = (pairs.find((p) => p.rtc?.id === selected) ?? pairs.find((p) => p.candidatePair?.nominated))
    ?.candidatePair;
  const candidate = (kind: string, id?: string) => of(kind).find((c) => c.rtc?.id === id)?.candidate;
  const remote = candidate("remoteCandidate", pair?.remoteCandidateId);
  const local = candidate("localCandidate", pair?.localCandidateId);
  const relayed = local?.candidateType === RELAY ? `relay ${RELAY_PROTOCOLS[local.relayProtocol ?? 0]}, then ` : "";
  return remote ? `${relayed}${remote.protocol} ${remote.address}:${remote.port}` : "unknown";
}

/** The FFI's IceCandidateType.RELAY and IceServerTransportProtocol, in its order. */
const RELAY = 3;
const RELAY_PROTOCOLS = ["udp", "tcp", "tls"];

/** Why a participant could not join, in one line an operator can act on. */
function reason(message: string): string {
  const line = message.split("\n")[0]!;
  if (/does not exist/i.test(line))
    return `the room does not exist on LiveKit and this token may not create it (auto_create is false): ${line}`;
  if (/pc connection|ice|timed? ?out/i.test(line))
    return `no media path to the SFU (its UDP/TCP ports blocked on the way?): ${line}`;
  return line;
}

/** LiveKit's client, loaded on first use. It sets its log level (to stdout) as it loads: debug unless NODE_ENV is production. */
async function liveKitClient() {
  const before = process.env.NODE_ENV;
  process.env.NODE_ENV = "production";
  try {
    return await import("@livekit/rtc-node");
  } finally {
    if (before === undefined) delete process.env.NODE_ENV;
    else process.env.NODE_ENV = before;
  }
}

const SAMPLE_RATE = 48000;
const SAMPLES = SAMPLE_RATE / 100; // 10 ms frames

export async function twoPartyCall(
  publisherGrant: Grant,
  subscriberGrant: Grant,
  options: CallOptions,
): Promise<CallOutcome> {
  const {
    AudioFrame,
    AudioSource,
    AudioStream,
    ContinualGatheringPolicy,
    IceTransportType,
    LocalAudioTrack,
    Room,
    RoomEvent,
    TrackPublishOptions,
    TrackSource,
  } = await liveKitClient();
  // No ICE servers of our own: the client uses those LiveKit hands out (coturn's, with credentials).
  const relay = {
    iceTransportType: IceTransportType.TRANSPORT_RELAY,
    continualGatheringPolicy: ContinualGatheringPolicy.GATHER_CONTINUALLY,
    iceServers: [],
  };
  const joining = (autoSubscribe: boolean) => ({
    autoSubscribe,
    dynacast: false,
    ...(options.relay ? { rtcConfig: relay } : {}),
  });
  const started = Date.now();
  const publisher = new Room();
  const subscriber = new Room();
  let received = 0;
  let firstFrameMs: number | undefined;
  let sending = true;
  try {
    const enough = new Promise<void>((resolve) => {
      subscriber.on(RoomEvent.TrackSubscribed, async (track: RemoteTrack) => {
        for await (const _frame of new AudioStream(track, SAMPLE_RATE, 1)) {
          firstFrameMs ??= Date.now() - started;
          if (++received >= options.frames) return resolve();
        }
      });
    });
    await subscriber.connect(subscriberGrant.url, subscriberGrant.jwt, joining(true));
    await publisher.connect(publisherGrant.url, publisherGrant.jwt, joining(false));
    const source = new AudioSource(SAMPLE_RATE, 1);
    const publication = new TrackPublishOptions();
    publication.source = TrackSource.SOURCE_MICROPHONE;
    await publisher.localParticipant!.publishTrack(LocalAudioTrack.createAudioTrack("probe-tone", source), publication);
    const samples = new Int16Array(SAMPLES);
    const send = (async () => {
      for (let t = 0; sending; t++) {
        for (let i = 0; i < SAMPLES; i++)
          samples[i] = Math.round(8000 * Math.sin((2 * Math.PI * 440 * (t * SAMPLES + i)) / SAMPLE_RATE));
        await source.captureFrame(new AudioFrame(samples, SAMPLE_RATE, 1, SAMPLES));
      }
    })();
    const timedOut = new Promise<"timeout">((resolve) => setTimeout(() => resolve("timeout"), options.timeoutMs));
    const ok = (await Promise.race([enough.then(() => "ok" as const), timedOut])) === "ok";
    // The path the frames came over, read when they came: a call held on may be drained or moved later.
    const sessions = await Promise.all([subscriber.getRtcStats(), publisher.getRtcStats()]);
    const path = icePath(
      sessions.flatMap((s) => [...(s.subscriberStats ?? []), ...(s.publisherStats ?? [])]) as unknown as Stat[],
    );
    if (ok) await new Promise((r) => setTimeout(r, options.holdMs ?? 0));
    sending = false;
    await send.catch(() => undefined);
    const error = ok
      ? undefined
      : `no media: ${received} of ${options.frames} frames within ${options.timeoutMs} ms (ICE path: ${path})`;
    return { ok, received, firstFrameMs, icePath: path, ms: Date.now() - started, ...(error ? { error } : {}) };
  } catch (error) {
    return { ok: false, received, ms: Date.now() - started, error: reason((error as Error).message) };
  } finally {
    sending = false;
    await Promise.all([publisher.disconnect(), subscriber.disconnect()]).catch(() => undefined);
  }
}
