/**
 * A TURN allocation over UDP as a client makes one (RFC 8656): an Allocate that coturn answers 401
 * with its realm and nonce, the same Allocate signed with the long-term credential, then a Refresh
 * of lifetime 0 that gives the relay back. Only what that exchange needs of STUN (RFC 8489).
 */
import { createHash, createHmac, randomBytes } from "node:crypto";
import { createSocket } from "node:dgram";

const MAGIC = 0x2112a442;
const METHOD = { allocate: 0x003, refresh: 0x004 };
const CLASS = { request: 0x000, success: 0x100, error: 0x110 };
export const ATTR = {
  username: 0x0006,
  messageIntegrity: 0x0008,
  errorCode: 0x0009,
  lifetime: 0x000d,
  realm: 0x0014,
  nonce: 0x0015,
  xorRelayedAddress: 0x0016,
  requestedTransport: 0x0019,
  xorMappedAddress: 0x0020,
};
const UDP = 17;

/** The credential LiveKit hands a participant for a TURN server with a shared secret (roommanager.go, v1.13.5). */
export function mintedCredential(secret: string, identity: string, ttlSeconds = 60) {
  const username = `${Math.floor(Date.now() / 1000) + ttlSeconds}:${identity}`;
  return { username, credential: createHmac("sha1", secret).update(username).digest("base64") };
}

interface Message {
  type: number;
  attributes: Map<number, Buffer>;
}

/** The long-term credential's key (RFC 8489 9.2.2): MD5 of user, realm and password (already SASLprep'ed). */
export const longTermKey = (username: string, realm: string, password: string) =>
  createHash("md5").update(`${username}:${realm}:${password}`).digest();

/** A STUN message with its attributes in order, signed with MESSAGE-INTEGRITY when a key is given. */
export function encode(type: number, transaction: Buffer, attributes: Array<[number, Buffer]>, key?: Buffer): Buffer {
  const body = Buffer.concat(
    attributes.map(([kind, value]) => {
      const head = Buffer.alloc(4);
      head.writeUInt16BE(kind, 0);
      head.writeUInt16BE(value.length, 2);
      return Buffer.concat([head, value, Buffer.alloc((4 - (value.length % 4)) % 4)]);
    }),
  );
  const header = Buffer.alloc(20);
  header.writeUInt16BE(type, 0);
  header.writeUInt32BE(MAGIC, 4);
  transaction.copy(header, 8);
  if (!key) {
    header.writeUInt16BE(body.length, 2);
    return Buffer.concat([header, body]);
  }
  // MESSAGE-INTEGRITY covers the message as if it ended with itself: its length counted in.
  header.writeUInt16BE(body.length + 24, 2);
  const integrity = createHmac("sha1", key)
    .update(Buffer.concat([header, body]))
    .digest();
  const head = Buffer.alloc(4);
  head.writeUInt16BE(ATTR.messageIntegrity, 0);
  head.writeUInt16BE(20, 2);
  return Buffer.concat([header, body, head, integrity]);
}

function decode(packet: Buffer): Message & { transaction: Buffer } {
  if (packet.length < 20 || packet.readUInt32BE(4) !== MAGIC) throw new Error("an answer that is not STUN");
  const attributes = new Map<number, Buffer>();
  for (let at = 20; at + 4 <= Math.min(packet.length, 20 + packet.readUInt16BE(2));) {
    const [kind, length] = [packet.readUInt16BE(at), packet.readUInt16BE(at + 2)];
    attributes.set(kind, packet.subarray(at + 4, at + 4 + length));
    at += 4 + length + ((4 - (length % 4)) % 4);
  }
  return { type: packet.readUInt16BE(0), attributes, transaction: packet.subarray(8, 20) };
}

function xorAddress(value: Buffer | undefined): string {
  if (!value || value[1] !== 0x01) return "an address that is not IPv4";
  const port = value.readUInt16BE(2) ^ (MAGIC >>> 16);
  const address = (value.readUInt32BE(4) ^ MAGIC) >>> 0;
  return `${[24, 16, 8, 0].map((shift) => (address >>> shift) & 0xff).join(".")}:${port}`;
}

function errorOf(message: Message): string {
  const value = message.attributes.get(ATTR.errorCode);
  if (!value) return "an error without a code";
  return `${(value[2]! & 0x7) * 100 + value[3]!} ${value.subarray(4).toString("utf8")}`;
}

/**
 * A client's one UDP socket: TURN binds the nonce and the allocation to its address and port. Each
 * request is sent again every 500 ms until its answer comes or `timeoutMs` passes.
 */
function udpClient(host: string, port: number, timeoutMs: number) {
  const socket = createSocket("udp4");
  const waiting = new Map<string, (message: Message) => void>();
  socket.on("message", (data) => {
    try {
      const message = decode(data);
      waiting.get(message.transaction.toString("hex"))?.(message);
    } catch {
      // Not STUN: not an answer.
    }
  });
  const exchange = (request: (transaction: Buffer) => Buffer) =>
    new Promise<Message>((resolve, reject) => {
      const transaction = randomBytes(12);
      const packet = request(transaction);
      const send = () => socket.send(packet, port, host, (error) => error && finish(error));
      const resend = setInterval(send, 500);
      const giveUp = setTimeout(
        () => finish(new Error(`no answer from ${host}:${port} (UDP) within ${timeoutMs} ms`)),
        timeoutMs,
      );
      const finish = (error?: Error, message?: Message) => {
        clearInterval(resend);
        clearTimeout(giveUp);
        waiting.delete(transaction.toString("hex"));
        if (error) reject(error);
        else resolve(message!);
      };
      waiting.set(transaction.toString("hex"), (message) => finish(undefined, message));
      send();
    });
  return { exchange, close: () => socket.close() };
}

export interface Allocation {
  relayed: string;
  mapped: string;
}

/** A relay allocated and given back, or why coturn refused it (its error code and reason). */
export async function allocateRelay(args: {
  host: string;
  port: number;
  username: string;
  credential: string;
  timeoutMs: number;
}): Promise<Allocation> {
  const transport: [number, Buffer] = [ATTR.requestedTransport, Buffer.from([UDP, 0, 0, 0])];
  const allocate = METHOD.allocate | CLASS.request;
  const client = udpClient(args.host, args.port, args.timeoutMs);
  try {
    const challenge = await client.exchange((t) => encode(allocate, t, [transport]));
    if (challenge.type !== (METHOD.allocate | CLASS.error) || !challenge.attributes.has(ATTR.nonce))
      throw new Error(`coturn answered an unsigned Allocate with ${errorOf(challenge)}, not 401 with a nonce`);
    const realm = challenge.attributes.get(ATTR.realm)!;
    const nonce = challenge.attributes.get(ATTR.nonce)!;
    const key = longTermKey(args.username, realm.toString("utf8"), args.credential);
    const signed = (attributes: Array<[number, Buffer]>): Array<[number, Buffer]> => [
      ...attributes,
      [ATTR.username, Buffer.from(args.username)],
      [ATTR.realm, realm],
      [ATTR.nonce, nonce],
    ];
    const answer = await client.exchange((t) => encode(allocate, t, signed([transport]), key));
    if (answer.type !== (METHOD.allocate | CLASS.success))
      throw new Error(`coturn refused the allocation: ${errorOf(answer)}`);
    const release = await client.exchange((t) =>
      encode(METHOD.refresh | CLASS.request, t, signed([[ATTR.lifetime, Buffer.alloc(4)]]), key),
    );
    if (release.type !== (METHOD.refresh | CLASS.success))
      throw new Error(`coturn allocated a relay but refused to give it back: ${errorOf(release)}`);
    return {
      relayed: xorAddress(answer.attributes.get(ATTR.xorRelayedAddress)),
      mapped: xorAddress(answer.attributes.get(ATTR.xorMappedAddress)),
    };
  } finally {
    client.close();
  }
}
