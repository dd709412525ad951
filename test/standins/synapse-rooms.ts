/**
 * The Synapse stand-in's rooms and MSC4140 delayed events, in memory (handlers/delayed_events.py,
 * rest/client/delayed_events.py, rest/client/room.py): rooms hold current state only; an event
 * sent with `org.matrix.msc4140.delay` is scheduled and answers a `delay_id`; restart, cancel and
 * send act on it by that id (the id is the capability: no access token needed); a delay over the
 * maximum is 403, a user's 101st scheduled event 429; a state event sent by someone else to the
 * same (room, type, state key) cancels the pending delayed ones there.
 */
import { randomBytes } from "node:crypto";
import { json, matrixError, type Answer } from "./http.js";

interface Room {
  members: Set<string>;
  state: Map<
    string,
    { type: string; state_key: string; sender: string; content: unknown; event_id: string; origin_server_ts: number }
  >;
}
interface Delayed {
  delay_id: string;
  owner: string;
  room_id: string;
  type: string;
  state_key?: string;
  content: unknown;
  delay: number;
  running_since: number;
  timer: NodeJS.Timeout;
}

const id = (sigil: string, serverName: string) => `${sigil}${randomBytes(9).toString("base64url")}:${serverName}`;
const stateKey = (type: string, key: string) => JSON.stringify([type, key]);
const notFound = () => matrixError(404, "M_NOT_FOUND", "Delayed event not found");
/** How many delayed events one user may have scheduled at once (Synapse's default). */
const MAX_DELAYED_PER_USER = 100;

export class Rooms {
  private readonly rooms = new Map<string, Room>();
  private readonly delayed = new Map<string, Delayed>();

  constructor(
    private readonly serverName: string,
    /** max_event_delay_duration in ms; undefined: delayed events are off. */
    private readonly maxDelayMs: number | undefined,
  ) {}

  create(user: string): Answer {
    const roomId = id("!", this.serverName);
    this.rooms.set(roomId, { members: new Set([user]), state: new Map() });
    this.write(roomId, user, "m.room.create", "", { creator: user });
    this.write(roomId, user, "m.room.member", user, { membership: "join" });
    return json(200, { room_id: roomId });
  }

  join(user: string, roomId: string): Answer {
    const room = this.rooms.get(roomId);
    if (!room) return matrixError(404, "M_NOT_FOUND", "No known servers");
    room.members.add(user);
    this.write(roomId, user, "m.room.member", user, { membership: "join" });
    return json(200, { room_id: roomId });
  }

  /** PUT …/state/{type}/{key} and …/send/{type}/{txn}; with a delay the event is scheduled instead. */
  send(
    user: string,
    roomId: string,
    type: string,
    key: string | undefined,
    content: unknown,
    delayParam: string | null,
  ): Answer {
    const room = this.rooms.get(roomId);
    if (!room || !room.members.has(user)) return matrixError(403, "M_FORBIDDEN", `User ${user} not in room ${roomId}`);
    if (delayParam === null)
      return json(200, {
        event_id: key === undefined ? id("$", this.serverName) : this.write(roomId, user, type, key, content),
      });
    if (this.maxDelayMs === undefined)
      return matrixError(403, "M_FORBIDDEN", "Sending delayed events has been disallowed");
    const delay = Number(delayParam);
    if (!/^\d+$/.test(delayParam))
      return matrixError(400, "M_INVALID_PARAM", "Query parameter 'org.matrix.msc4140.delay' must be an integer");
    if (delay > this.maxDelayMs)
      return matrixError(
        403,
        "M_FORBIDDEN",
        `The requested delay (${delay}ms) exceeds the allowed maximum (${this.maxDelayMs}ms)`,
      );
    if ([...this.delayed.values()].filter((d) => d.owner === user).length >= MAX_DELAYED_PER_USER)
      return matrixError(429, "M_LIMIT_EXCEEDED", "Too Many Requests");
    const delayId = `syd_${randomBytes(12).toString("base64url")}`;
    const event: Delayed = {
      delay_id: delayId,
      owner: user,
      room_id: roomId,
      type,
      ...(key === undefined ? {} : { state_key: key }),
      content,
      delay,
      running_since: Date.now(),
      timer: this.arm(delayId, delay),
    };
    this.delayed.set(delayId, event);
    return json(200, { delay_id: delayId });
  }

  state(user: string, roomId: string, type: string, key: string): Answer {
    const room = this.rooms.get(roomId);
    if (!room || !room.members.has(user)) return matrixError(403, "M_FORBIDDEN", `User ${user} not in room ${roomId}`);
    const found = room.state.get(stateKey(type, key));
    return found ? json(200, found.content) : matrixError(404, "M_NOT_FOUND", "Event not found.");
  }

  /** restart, cancel or send, by delay id. */
  act(delayId: string, action: string): Answer {
    const event = this.delayed.get(delayId);
    if (!["restart", "cancel", "send"].includes(action))
      return matrixError(400, "M_INVALID_PARAM", "'action' is not one of 'cancel', 'restart', 'send'");
    if (!event) return notFound();
    if (action === "restart") {
      clearTimeout(event.timer);
      event.running_since = Date.now();
      event.timer = this.arm(delayId, event.delay);
    } else if (action === "cancel") this.drop(delayId);
    else this.fire(delayId);
    return json(200, {});
  }

  /** GET …/delayed_events: the user's scheduled ones. */
  list(user: string): Answer {
    const scheduled = [...this.delayed.values()]
      .filter((d) => d.owner === user)
      .map(({ timer: _t, owner: _o, ...d }) => d);
    return json(200, { delayed_events: scheduled });
  }

  private arm(delayId: string, delay: number) {
    return setTimeout(() => this.fire(delayId), delay);
  }

  private drop(delayId: string) {
    const event = this.delayed.get(delayId);
    if (event) clearTimeout(event.timer);
    this.delayed.delete(delayId);
  }

  private fire(delayId: string) {
    const event = this.delayed.get(delayId);
    if (!event) return;
    this.drop(delayId);
    if (event.state_key !== undefined)
      this.write(event.room_id, event.owner, event.type, event.state_key, event.content);
    console.log(`synapse: delayed event ${delayId} sent (${event.type} in ${event.room_id})`);
  }

  private write(roomId: string, sender: string, type: string, key: string, content: unknown): string {
    const eventId = id("$", this.serverName);
    this.rooms.get(roomId)!.state.set(stateKey(type, key), {
      type,
      state_key: key,
      sender,
      content,
      event_id: eventId,
      origin_server_ts: Date.now(),
    });
    // Someone else's state at this key cancels the delayed state events pending there.
    for (const d of [...this.delayed.values()])
      if (d.room_id === roomId && d.type === type && d.state_key === key && d.owner !== sender) this.drop(d.delay_id);
    return eventId;
  }
}

/** Synapse's duration strings: a number of ms, or a number with s, m, h, d, w or y. */
export function durationMs(value: string | number | undefined): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === "number") return value;
  const m = /^(\d+)(ms|s|m|h|d|w|y)?$/.exec(value.trim());
  if (!m) throw new Error(`max_event_delay_duration: not a duration: ${value}`);
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, y: 31_536_000_000 }[
    (m[2] ?? "ms") as "ms"
  ];
  return Number(m[1]) * unit;
}
