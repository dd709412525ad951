/**
 * What Element Call does to join a call, run in a real browser on Element Call's own origin: the
 * server name's well-known, a password login, the MSC4143 transports, an OpenID token, a grant
 * from the jwt service (cross-origin, /sfu/get), then LiveKit through the proxy with the browser's
 * fake microphone and camera; and what the browser measured of the media it received (getStats).
 * Bundled for the browser by test/browser/browser.ts; the page calls `riggerCall`.
 */
import { Room, RoomEvent, Track, type RemoteTrack } from "livekit-client";

export interface CallParams {
  serverName: string;
  user: string;
  password: string;
  room: string;
  /** How long to stay in the call once the other side's audio and video arrive. */
  seconds: number;
  /** iceTransportPolicy "relay": media only through TURN, as on a network that allows nothing else. */
  relay: boolean;
}

/** What one participant's browser measured. */
export interface CallResult {
  focus: string;
  audio: { packetsReceived: number; packetsLost: number; totalAudioEnergy: number; jitter: number };
  video: { framesDecoded: number; frameWidth: number };
  roundTripTime: number;
  /** The pair that carried the media, as the browser selected it. */
  local: { candidateType: string; protocol: string; relayProtocol?: string };
  /** The SFU's side: the address LiveKit advertised and media reached. */
  remote: { candidateType: string; protocol: string; address: string };
}

/** A request as a browser app makes it: a GET without a content type (no preflight), a POST with a JSON body. */
async function json(url: string, init: RequestInit = {}): Promise<any> {
  const answer = await fetch(url, init);
  const text = await answer.text();
  if (!answer.ok) throw new Error(`${init.method ?? "GET"} ${url}: ${answer.status} ${text.slice(0, 200)}`);
  return JSON.parse(text);
}

const post = (url: string, body: unknown, token?: string) =>
  json(url, {
    method: "POST",
    body: JSON.stringify(body),
    headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
  });

/** The SFU's jwt service, found as Element Call 0.24 finds it: MSC4143's transports, which the well-known must agree with. */
async function discover(params: CallParams) {
  const wellKnown = await json(`https://${params.serverName}/.well-known/matrix/client`);
  const base = String(wellKnown["m.homeserver"].base_url).replace(/\/$/, "");
  const login = await post(`${base}/_matrix/client/v3/login`, {
    type: "m.login.password",
    identifier: { type: "m.id.user", user: params.user },
    password: params.password,
  });
  const transports = await json(`${base}/_matrix/client/unstable/org.matrix.msc4143/rtc/transports`, {
    headers: { authorization: `Bearer ${login.access_token}` },
  });
  const focus = String(transports.rtc_transports?.[0]?.livekit_service_url ?? "");
  const advertised = wellKnown["org.matrix.msc4143.rtc_foci"]?.[0]?.livekit_service_url;
  if (!focus || focus !== advertised) throw new Error(`MSC4143 transports name ${focus}, the well-known ${advertised}`);
  return { base, login, focus };
}

/** The other side's audio and video, once both are subscribed, each in an element of the page. */
function remoteTracks(room: Room): Promise<RemoteTrack[]> {
  return new Promise((resolve) => {
    const tracks = new Map<string, RemoteTrack>();
    const seen = (track: RemoteTrack) => {
      // Played out, as Element Call plays it: the browser measures the audio's energy only then.
      document.body.append(track.attach());
      tracks.set(track.kind, track);
      if (tracks.has(Track.Kind.Audio) && tracks.has(Track.Kind.Video)) resolve([...tracks.values()]);
    };
    for (const participant of room.remoteParticipants.values())
      for (const publication of participant.trackPublications.values()) if (publication.track) seen(publication.track);
    room.on(RoomEvent.TrackSubscribed, seen);
  });
}

/** Every peer connection the page opens (livekit-client's publisher and subscriber), for their stats. */
const connections: RTCPeerConnection[] = [];
const NativePeerConnection = globalThis.RTCPeerConnection;
globalThis.RTCPeerConnection = class extends NativePeerConnection {
  constructor(configuration?: RTCConfiguration) {
    super(configuration);
    connections.push(this);
  }
};

/** The inbound audio and video, and the candidate pair that carried them, from the connection that received them. */
async function measured() {
  for (const connection of connections) {
    const stats = [...(await connection.getStats()).values()] as any[];
    const inbound = (kind: string) => stats.find((s) => s.type === "inbound-rtp" && s.kind === kind);
    if (!inbound("audio")) continue;
    const byId = new Map(stats.map((s) => [s.id, s]));
    const transport = stats.find((s) => s.type === "transport" && s.selectedCandidatePairId);
    const pair = byId.get(transport?.selectedCandidatePairId);
    return {
      audio: inbound("audio"),
      video: inbound("video"),
      pair,
      local: byId.get(pair?.localCandidateId),
      remote: byId.get(pair?.remoteCandidateId),
    };
  }
  throw new Error("no connection received audio");
}

export async function riggerCall(params: CallParams): Promise<CallResult> {
  const { base, login, focus } = await discover(params);
  const openid = await post(
    `${base}/_matrix/client/v3/user/${encodeURIComponent(login.user_id)}/openid/request_token`,
    {},
    login.access_token,
  );
  const grant = await post(`${focus}/sfu/get`, { room: params.room, openid_token: openid, device_id: login.device_id });
  const room = new Room();
  await room.connect(grant.url, grant.jwt, params.relay ? { rtcConfig: { iceTransportPolicy: "relay" } } : {});
  try {
    await room.localParticipant.setMicrophoneEnabled(true);
    await room.localParticipant.setCameraEnabled(true);
    await remoteTracks(room);
    await new Promise((resolve) => setTimeout(resolve, params.seconds * 1000));
    const { audio, video, pair, local, remote } = await measured();
    return {
      focus,
      audio: {
        packetsReceived: audio.packetsReceived ?? 0,
        packetsLost: audio.packetsLost ?? 0,
        totalAudioEnergy: audio.totalAudioEnergy ?? 0,
        jitter: audio.jitter ?? 0,
      },
      video: { framesDecoded: video?.framesDecoded ?? 0, frameWidth: video?.frameWidth ?? 0 },
      roundTripTime: pair?.currentRoundTripTime ?? 0,
      local: {
        candidateType: local?.candidateType,
        protocol: local?.protocol,
        ...(local?.relayProtocol ? { relayProtocol: local.relayProtocol } : {}),
      },
      remote: {
        candidateType: remote?.candidateType,
        protocol: remote?.protocol,
        address: `${remote?.address}:${remote?.port}`,
      },
    };
  } finally {
    await room.disconnect();
  }
}
