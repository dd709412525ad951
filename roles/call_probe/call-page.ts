/**
 * What Element Call does to join a call, run in a real browser on Element Call's own origin: the
 * server name's well-known, a password login, the MSC4143 transports, an OpenID token, a grant
 * from the jwt service (cross-origin, /sfu/get), then LiveKit through the proxy with the browser's
 * fake microphone and camera; and what the browser measured of the media it received (getStats).
 * Bundled for the browser by ./browser.ts; the page calls `riggerCall`.
 */
import { Room, RoomEvent, Track, type RemoteParticipant, type RemoteTrack } from "livekit-client";
import { astray, foundFoci, TRANSPORTS_PATH } from "./discovery.js";

/**
 * The ICE paths a participant may take: "any" as the browser chooses; "relay" only through TURN
 * (iceTransportPolicy relay), as on a network that allows nothing else; "relay-tls" only through
 * TURN over TLS, the one way through a firewall that lets only TLS out.
 */
export type CallPath = "any" | "relay" | "relay-tls";

export interface CallParams {
  serverName: string;
  user: string;
  password: string;
  room: string;
  /** Everyone in the call, this participant included. */
  participants: number;
  /** How long to stay in the call once everyone else's audio and video arrive. */
  seconds: number;
  path: CallPath;
  /** The camera's height in pixels and frames a second (a crowd's tiles need less); the browser's default when absent. */
  video?: { height: number; frameRate: number };
  /** false: a microphone only (a crowd on a machine too small for everyone's camera). */
  camera?: boolean;
}

/** What one participant's browser measured, every other participant's stream counted: the weakest decides. */
export interface CallResult {
  focus: string;
  /** Fewest packets and least energy of any stream; losses summed; the worst jitter (seconds). */
  audio: { streams: number; packetsReceived: number; packetsLost: number; totalAudioEnergy: number; jitter: number };
  /** Fewest frames decoded of any stream. */
  video: { streams: number; framesDecoded: number; frameWidth: number };
  /** Seconds, on the selected pair. */
  roundTripTime: number;
  /** How the media came: "relay tls" through coturn over TLS, "host udp" straight to LiveKit's UDP port, ... */
  path: string;
  /** The STUN/TURN servers LiveKit handed out (their URLs; never the credentials). */
  iceServers: string[];
  /** The pair that carried the media, as the browser selected it. */
  local: { candidateType: string; protocol: string; relayProtocol?: string };
  /** The SFU's side: the address LiveKit advertised and media reached. */
  remote: { candidateType: string; protocol: string; address: string };
  /** Every half second while the call was held. */
  timeline: Sample[];
}

export interface Sample {
  ms: number;
  /** Audio packets received so far, from everyone. */
  packetsReceived: number;
  /** Audio packets lost so far, from everyone. */
  packetsLost: number;
  /** The loudest stream's level, 0 to 1. */
  audioLevel: number;
  roundTripTime: number;
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
  const transports = await json(`${base}${TRANSPORTS_PATH}`, {
    headers: { authorization: `Bearer ${login.access_token}` },
  });
  const [fromTransports, [wellKnownPlace, focus]] = foundFoci(transports, wellKnown, params.serverName);
  if (!focus) throw new Error(`${wellKnownPlace} names no LiveKit focus`);
  const wrong = astray([fromTransports], focus, wellKnownPlace);
  if (wrong) throw new Error(wrong);
  return { base, login, focus };
}

/** Everyone else's audio and video, once subscribed, each in an element of the page. */
function remoteTracks(room: Room, others: number, videos: number): Promise<void> {
  return new Promise((resolve) => {
    const kinds = { [Track.Kind.Audio]: 0, [Track.Kind.Video]: 0 } as Record<string, number>;
    const seen = (track: RemoteTrack) => {
      // Played out, as Element Call plays it: the browser measures the audio's energy only then.
      document.body.append(track.attach());
      kinds[track.kind] = (kinds[track.kind] ?? 0) + 1;
      if (kinds[Track.Kind.Audio]! >= others && kinds[Track.Kind.Video]! >= videos) resolve();
    };
    for (const participant of room.remoteParticipants.values())
      for (const publication of participant.trackPublications.values()) if (publication.track) seen(publication.track);
    room.on(RoomEvent.TrackSubscribed, seen);
  });
}

/**
 * Who has measured, told over the room's data channel: a participant leaves only when everyone else
 * has measured (or left), since leaving takes its streams out of the others' stats.
 */
function measuredTogether(room: Room, others: number) {
  const done = new Set<string>();
  let settle = () => {};
  const count = (participant?: RemoteParticipant) => {
    if (participant) done.add(participant.identity);
    if (done.size >= others) settle();
  };
  room.on(RoomEvent.DataReceived, (_payload, participant, _kind, topic) => topic === MEASURED && count(participant));
  room.on(RoomEvent.ParticipantDisconnected, count);
  return async (timeoutMs: number) => {
    const all = new Promise<void>((resolve) => (settle = resolve));
    count();
    await room.localParticipant.publishData(new TextEncoder().encode(MEASURED), { reliable: true, topic: MEASURED });
    await Promise.race([all, new Promise((resolve) => setTimeout(resolve, timeoutMs))]);
  };
}
const MEASURED = "rigger-measured";

/** Every peer connection the page opens (livekit-client's publisher and subscriber), for their stats. */
const connections: RTCPeerConnection[] = [];
/** The ICE server URLs LiveKit handed out, as the page's connections were given them. */
const handedOut = new Set<string>();
/** Only TURN over TLS, for path "relay-tls": LiveKit hands out every TURN URL it has. */
let onlyTurns = false;

/** The servers a connection is given, as the path allows. */
function allowed(servers: RTCIceServer[] = []): RTCIceServer[] {
  const urls = (server: RTCIceServer) => (Array.isArray(server.urls) ? server.urls : [server.urls]);
  for (const server of servers) urls(server).forEach((url) => handedOut.add(url));
  if (!onlyTurns) return servers;
  return servers
    .map((server) => ({ ...server, urls: urls(server).filter((url) => url.startsWith("turns:")) }))
    .filter((server) => server.urls.length);
}

const NativePeerConnection = globalThis.RTCPeerConnection;
globalThis.RTCPeerConnection = class extends NativePeerConnection {
  constructor(configuration: RTCConfiguration = {}) {
    super({ ...configuration, iceServers: allowed(configuration.iceServers) });
    connections.push(this);
  }
  override setConfiguration(configuration: RTCConfiguration = {}) {
    super.setConfiguration({ ...configuration, iceServers: allowed(configuration.iceServers) });
  }
};

/** How the media came. A relayed pair is named by its relay protocol: Chromium may call a relayed candidate it learned from LiveKit's checks "prflx". */
const pathOf = (local: any) =>
  local?.relayProtocol ? `relay ${local.relayProtocol}` : `${local?.candidateType} ${local?.protocol}`;

/** The inbound streams and the candidate pair that carried them, from the connection that received them. */
async function measured() {
  for (const connection of connections) {
    const stats = [...(await connection.getStats()).values()] as any[];
    const inbound = (kind: string) => stats.filter((s) => s.type === "inbound-rtp" && s.kind === kind);
    if (!inbound("audio").length) continue;
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

const least = (values: number[]) => (values.length ? Math.min(...values) : 0);
const most = (values: number[]) => (values.length ? Math.max(...values) : 0);
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const field = (stats: any[], name: string): number[] => stats.map((s) => s[name] ?? 0);

/** The call held for `seconds`, sampled every half second. */
async function held(seconds: number): Promise<Sample[]> {
  const timeline: Sample[] = [];
  const started = performance.now();
  while (performance.now() - started < seconds * 1000) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    const { audio, pair } = await measured();
    timeline.push({
      ms: Math.round(performance.now() - started),
      packetsReceived: sum(field(audio, "packetsReceived")),
      packetsLost: sum(field(audio, "packetsLost")),
      audioLevel: most(field(audio, "audioLevel")),
      roundTripTime: pair?.currentRoundTripTime ?? 0,
    });
  }
  return timeline;
}

export async function riggerCall(params: CallParams): Promise<CallResult> {
  onlyTurns = params.path === "relay-tls";
  const { base, login, focus } = await discover(params);
  const openid = await post(
    `${base}/_matrix/client/v3/user/${encodeURIComponent(login.user_id)}/openid/request_token`,
    {},
    login.access_token,
  );
  const grant = await post(`${focus}/sfu/get`, { room: params.room, openid_token: openid, device_id: login.device_id });
  const others = params.participants - 1;
  const room = new Room(
    params.video
      ? {
          videoCaptureDefaults: {
            resolution: {
              width: (params.video.height * 4) / 3,
              height: params.video.height,
              frameRate: params.video.frameRate,
            },
          },
          publishDefaults: { simulcast: false },
        }
      : {},
  );
  const together = measuredTogether(room, others);
  const relayed = params.path !== "any";
  await room
    .connect(grant.url, grant.jwt, relayed ? { rtcConfig: { iceTransportPolicy: "relay" } } : {})
    .catch((error: Error) => {
      const servers = [...handedOut].join(", ") || "none";
      if (onlyTurns && !servers.includes("turns:"))
        throw new Error(
          `LiveKit hands out no TURN over TLS (turns:), only ${servers}: users whose network lets only TLS out cannot join (give coturn a certificate, coturn_tls_certificate)`,
        );
      throw new Error(`${error.message} (ICE servers handed out: ${servers})`);
    });
  try {
    await room.localParticipant.setMicrophoneEnabled(true);
    const camera = params.camera !== false;
    if (camera) await room.localParticipant.setCameraEnabled(true);
    await remoteTracks(room, others, camera ? others : 0);
    const timeline = await held(params.seconds);
    const { audio, video, pair, local, remote } = await measured();
    await together(30_000);
    return {
      focus,
      audio: {
        streams: audio.length,
        packetsReceived: least(field(audio, "packetsReceived")),
        packetsLost: sum(field(audio, "packetsLost")),
        totalAudioEnergy: least(field(audio, "totalAudioEnergy")),
        jitter: most(field(audio, "jitter")),
      },
      video: {
        streams: video.length,
        framesDecoded: least(field(video, "framesDecoded")),
        frameWidth: least(field(video, "frameWidth")),
      },
      roundTripTime: pair?.currentRoundTripTime ?? 0,
      path: pathOf(local),
      iceServers: [...handedOut],
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
      timeline,
    };
  } finally {
    await room.disconnect();
  }
}
