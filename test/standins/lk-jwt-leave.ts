/**
 * The jwt service's delegated leave (delayedEventManager.go, helper.go): for a participant who
 * handed over a delayed "leave" event, keep it from firing while they are on the SFU (restart at
 * 80 % of its timeout), and send it the moment they are gone, as LiveKit's webhook says or, as a
 * fallback, a periodic look at the room (the sanity check). One job per (LiveKit room, identity);
 * a new request for the same pair replaces the old job.
 *
 *   waiting --joined / found on the SFU--> connected --left / aborted / gone--> disconnected (send)
 *   connected --a restart answers 404, or none succeeds before the deadline--> aborted (nothing sent)
 *   waiting --connection aborted--> aborted (nothing sent)      waiting --timed out--> disconnected (send)
 */
export type SfuSignal = "joined" | "left" | "aborted" | "gone";
/** true: present; false: the SFU says absent; undefined: it could not be asked. */
export type Presence = (room: string, identity: string) => Promise<boolean | undefined>;

export interface LeaveJob {
  room: string;
  identity: string;
  delayId: string;
  timeoutMs: number;
  csApiUrl: string;
}

const DELAYED_EVENTS = "/_matrix/client/unstable/org.matrix.msc4140/delayed_events";
const HOUR = 3_600_000;
type Outcome = "ok" | "not found" | "retry";

/** ExecuteDelayedEventAction: POST {cs}/…/delayed_events/{id}/{action}, no access token (the delay id is the capability). */
async function delayedAction(job: LeaveJob, action: "restart" | "send"): Promise<Outcome> {
  try {
    const url = `${job.csApiUrl.replace(/\/$/, "")}${DELAYED_EVENTS}/${encodeURIComponent(job.delayId)}/${action}`;
    const response = await fetch(url, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: "{}",
      signal: AbortSignal.timeout(5000),
    });
    if (response.status === 200 || response.status === 204) return "ok";
    // 404 on send: already sent or cancelled, which is what was wanted.
    if (response.status === 404) return action === "send" ? "ok" : "not found";
    return "retry";
  } catch {
    return "retry";
  }
}

/** Exponential backoff as upstream configures it (1 s, x1.5, at most 60 s apart) until `until` (epoch ms) or a result. */
async function retryUntil<T>(
  until: number,
  alive: () => boolean,
  attempt: () => Promise<T | undefined>,
): Promise<T | undefined> {
  let wait = 1000;
  for (;;) {
    const result = await attempt();
    if (result !== undefined || !alive()) return result;
    if (Date.now() + wait > until) return undefined;
    await new Promise((r) => setTimeout(r, wait));
    wait = Math.min(wait * 1.5, 60_000);
  }
}

class Job {
  state: "waiting" | "connected" | "disconnected" | "aborted" | "replaced" = "waiting";
  private deadline = 0;
  private timers: NodeJS.Timeout[] = [];

  constructor(
    readonly params: LeaveJob,
    private readonly presence: Presence,
    private readonly sanityMs: number,
    private readonly done: (job: Job) => void,
  ) {
    this.timers.push(setTimeout(() => this.signal("timed out"), Math.min(HOUR, params.timeoutMs)));
    void this.lookUp();
  }

  private log(what: string) {
    console.log(
      `lk-jwt: delayed leave ${this.params.delayId} (${this.params.identity} in ${this.params.room}): ${what}`,
    );
  }

  /** Phase 1: ask the SFU until the participant is there; phase 2: while connected, ask again every sanity interval. */
  private async lookUp() {
    const found = await retryUntil(
      Date.now() + Math.min(HOUR, this.params.timeoutMs),
      () => this.state === "waiting",
      async () => ((await this.presence(this.params.room, this.params.identity)) ? true : undefined),
    );
    if (!found || this.state === "replaced") return;
    this.signal("found");
    if (!this.sanityMs) return;
    const check = setInterval(async () => {
      if (this.state !== "connected") return clearInterval(check);
      if ((await this.presence(this.params.room, this.params.identity)) === false) {
        clearInterval(check);
        this.signal("gone");
      }
    }, this.sanityMs);
    this.timers.push(check);
  }

  signal(event: SfuSignal | "found" | "timed out" | "not found" | "replaced") {
    const from = this.state;
    if (event === "replaced") return this.enter("replaced");
    if (from === "waiting") {
      if (event === "joined" || event === "found") this.enter("connected");
      else if (event === "aborted") this.enter("aborted");
      else if (event === "timed out" || event === "not found") this.enter("disconnected");
    } else if (from === "connected") {
      // The delayed event is gone or has fired: nothing is left to send.
      if (event === "not found" || event === "timed out") this.enter("aborted");
      else if (event !== "joined" && event !== "found") this.enter("disconnected");
    }
    if (this.state !== from) this.log(`${from} -> ${this.state} (${event})`);
  }

  private enter(state: Job["state"]) {
    this.state = state;
    for (const t of this.timers.splice(0)) clearTimeout(t);
    if (state === "connected") {
      this.deadline = Date.now() + this.params.timeoutMs;
      void this.restart();
    } else if (state === "disconnected") void this.send();
    else this.done(this);
  }

  /** While connected: restart the delayed event, then again at 80 % of its timeout. */
  private async restart() {
    const outcome = await retryUntil(
      this.deadline,
      () => this.state === "connected",
      async () => {
        const o = await delayedAction(this.params, "restart");
        return o === "retry" ? undefined : o;
      },
    );
    if (this.state !== "connected") return;
    if (outcome === "ok") {
      this.deadline = Date.now() + this.params.timeoutMs;
      this.timers.push(setTimeout(() => void this.restart(), (this.params.timeoutMs * 8) / 10));
    } else this.signal(outcome === "not found" ? "not found" : "timed out");
  }

  /** Gone: send the leave now, retrying until it would have been sent by the homeserver anyway (1 s to 1 h). */
  private async send() {
    const window = Math.min(HOUR, Math.max(1000, this.deadline - Date.now()));
    const outcome = await retryUntil(
      Date.now() + window,
      () => this.state === "disconnected",
      async () => {
        const o = await delayedAction(this.params, "send");
        return o === "ok" ? o : undefined;
      },
    );
    this.log(outcome ? "leave event sent" : "sending the leave event failed");
    this.done(this);
  }
}

export class DelayedLeaves {
  private readonly jobs = new Map<string, Job>();

  constructor(
    private readonly presence: Presence,
    private readonly sanityMs: number,
  ) {}

  add(params: LeaveJob) {
    const key = JSON.stringify([params.room, params.identity]);
    this.jobs.get(key)?.signal("replaced");
    const job = new Job(params, this.presence, this.sanityMs, (finished) => {
      if (this.jobs.get(key) === finished) this.jobs.delete(key);
    });
    this.jobs.set(key, job);
  }

  /** A participant event from LiveKit's webhook, routed to the job of that room and identity (none: ignored). */
  sfuEvent(room: string, identity: string, signal: SfuSignal) {
    this.jobs.get(JSON.stringify([room, identity]))?.signal(signal);
  }
}
