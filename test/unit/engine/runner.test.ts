import { describe, expect, it } from "vitest";
import type { ExecResult } from "../../../src/connection/ssh.js";
import type { RunEvent, TaskEvent } from "../../../src/engine/events.js";
import { InstalledButFailedError } from "../../../src/engine/installed-but-failed.js";
import type { Session } from "../../../src/engine/run-contract.js";
import { runPlays } from "../../../src/engine/runner.js";
import type { PreparedPlay } from "../../../src/engine/prepare.js";
import { defineFact, type Fact } from "../../../src/facts/fact.js";
import {
  NotYetPlannable,
  operation,
  type Observation,
  type Operation,
  type UploadStep,
  type WriteStep,
} from "../../../src/ops/operation.js";

/** A host whose facts are given and whose commands are recorded: the runner's logic without SSH. */
class StubSession implements Session {
  roundTrips = 0;
  readonly ran: string[] = [];
  readonly wrote: string[] = [];
  private cache = new Map<string, unknown>();
  constructor(
    readonly name: string,
    private readonly facts: Record<string, unknown>,
  ) {}
  async gather(facts: Fact<unknown>[]) {
    const missing = facts.filter((f) => !this.cache.has(f.key));
    if (missing.length) this.roundTrips++;
    missing.forEach((f) => this.cache.set(f.key, this.facts[f.key]));
  }
  value<T>(fact: Fact<T>) {
    return this.cache.get(fact.key) as T;
  }
  known<T>(fact: Fact<T>) {
    return this.cache.get(fact.key) as T | undefined;
  }
  invalidate() {
    this.cache.clear();
  }
  /** Commands that keep notified handlers on the host until they have run (alone, or after a change's own command). */
  readonly bookkeeping: string[] = [];
  async run(command: string): Promise<ExecResult> {
    const joined = /^\{ ([\s\S]*)\n\} && (.*)$/.exec(command);
    const [work, keeping] = joined
      ? [joined[1]!, joined[2]!]
      : command.includes("/var/lib/rigger/pending-handlers")
        ? [undefined, command]
        : [command, undefined];
    if (work !== undefined) this.ran.push(work);
    if (work === "false") return { code: 1, stdout: "", stderr: "it failed" };
    if (keeping) this.bookkeeping.push(keeping);
    return { code: 0, stdout: "", stderr: "" };
  }
  async write(step: WriteStep) {
    this.wrote.push(step.path);
    if (step.then) this.bookkeeping.push(step.then);
    return { backup: `/var/backups/rigger/${step.path.replace(/\//g, "_")}.1` };
  }
  async upload(step: UploadStep) {
    this.wrote.push(step.path);
  }
  /** The files put back by a rollback, in order. */
  readonly restored: string[] = [];
  async restore(written: { path: string; backup?: string }) {
    this.restored.push(`${written.path} <- ${written.backup}`);
  }
  /** What a validator says of a path's new content (unset: it accepts it). */
  readonly refusals = new Map<string, string>();
  async validate(step: WriteStep) {
    return this.refusals.get(step.path);
  }
  async confirmNewConnection() {}
  forward(): Promise<never> {
    return Promise.reject(new Error("no tunnels here"));
  }
  download(): Promise<never> {
    return Promise.reject(new Error("no files here"));
  }
  close() {}
}

const flag = (name: string) => defineFact(name, `test -e ${name}`, (_o, code) => code === 0);
/** Runs `command` unless the fact `name` holds. */
const ensure = (name: string, command: string, extra: { notify?: string[]; tags?: string[] } = {}) =>
  operation({
    name,
    facts: { done: flag(name) },
    plan: ({ done }) => (done ? [] : [{ kind: "run", command }]),
    ...extra,
  });

const play = (tasks: Operation[], handlers = {}): PreparedPlay[] => [
  { name: "p", hosts: new Map([["h1", [{ name: "r", tasks, handlers, verify: [] }]]]) },
];

async function run(plays: PreparedPlay[], session: StubSession, options: { check?: boolean; tags?: string[] } = {}) {
  const events: RunEvent[] = [];
  await runPlays(plays, {
    check: options.check ?? false,
    diff: false,
    forks: 2,
    tags: options.tags,
    connect: async () => session,
    emit: (e) => events.push(e),
  });
  return { events, tasks: events.filter((e): e is TaskEvent => e.type === "task") };
}

const tasks = () => [
  ensure("a", "make a", { notify: ["reload"] }),
  ensure("b", "make b", { notify: ["reload"] }),
  ensure("c", "make c", { tags: ["extra"] }),
];
const handlers = {
  reload: operation({ name: "reload", facts: {}, plan: () => [{ kind: "run", command: "reload it" }] }),
};

it("changes only what differs and runs a notified handler once, at the end of the role", async () => {
  const session = new StubSession("h1", { b: true });
  const { tasks: events } = await run(play(tasks(), handlers), session);
  expect(events.map((e) => [e.task, e.status])).toEqual([
    ["a", "changed"],
    ["b", "ok"],
    ["c", "changed"],
    ["handler: reload", "changed"],
  ]);
  expect(session.ran).toEqual(["make a", "make c", "reload it"]);
  // the role's facts in one round trip, then one more for the rest of the role after a change
  expect(session.roundTrips).toBe(2);
});

it("in check mode runs nothing, says what would change and which handlers would run", async () => {
  const session = new StubSession("h1", {});
  const { tasks: events } = await run(play(tasks(), handlers), session, { check: true });
  expect(session.ran).toEqual([]);
  expect(events.every((e) => e.check)).toBe(true);
  expect(events.map((e) => [e.task, e.status])).toEqual([
    ["a", "changed"],
    ["b", "changed"],
    ["c", "changed"],
    ["handler: reload", "changed"],
  ]);
  expect(session.roundTrips).toBe(1);
});

it("runs only tagged tasks when tags are given, and reports the others skipped", async () => {
  const session = new StubSession("h1", {});
  const { tasks: events } = await run(play(tasks(), handlers), session, { tags: ["extra"] });
  expect(events.map((e) => [e.task, e.status])).toEqual([
    ["a", "skipped"],
    ["b", "skipped"],
    ["c", "changed"],
  ]);
  expect(session.ran).toEqual(["make c"]);
});

it("in check mode reports a task that cannot be planned before earlier changes as drift, not failure", async () => {
  const unplannable = operation({
    name: "service x",
    facts: {},
    plan: () => {
      throw new NotYetPlannable("the unit x.service does not exist on this host");
    },
  });
  const session = new StubSession("h1", {});
  const { events, tasks: taskEvents } = await run(play([ensure("a", "install x"), unplannable]), session, {
    check: true,
  });
  expect(taskEvents.map((e) => [e.task, e.status])).toEqual([
    ["a", "changed"],
    ["service x", "changed"],
  ]);
  expect(taskEvents[1]!.changes).toEqual([
    "(cannot be planned before the changes above: the unit x.service does not exist on this host)",
  ]);
  expect(events.at(-1)).toMatchObject({ type: "host-end", status: "ok" });
  // Without an earlier change it is a failure, in check mode too.
  const alone = await run(play([unplannable]), new StubSession("h1", {}), { check: true });
  expect(alone.tasks.map((e) => e.status)).toEqual(["failed"]);
});

it("in check mode fails the host on any other error, also after an earlier would-change", async () => {
  const broken = operation({
    name: "file /etc/x",
    facts: {},
    plan: () => {
      throw new Error("fact file:/etc/x could not be read: no permission");
    },
  });
  const { events, tasks: taskEvents } = await run(
    play([ensure("a", "install x"), broken, ensure("b", "make b")]),
    new StubSession("h1", {}),
    { check: true },
  );
  expect(taskEvents.map((e) => [e.task, e.status])).toEqual([
    ["a", "changed"],
    ["file /etc/x", "failed"],
  ]);
  expect(events.at(-1)).toMatchObject({ type: "host-end", status: "failed" });
});

it("stops a host at its first failed task, with the command's error", async () => {
  const session = new StubSession("h1", {});
  const failing = [ensure("a", "false"), ensure("b", "make b")];
  const { events, tasks: taskEvents } = await run(play(failing), session);
  expect(taskEvents.map((e) => [e.task, e.status])).toEqual([["a", "failed"]]);
  expect(taskEvents[0]!.error).toContain("it failed");
  expect(events.at(-1)).toMatchObject({ type: "host-end", status: "failed" });
});

const twoRoles = (first: Operation[], second: Operation[]): PreparedPlay[] => [
  {
    name: "p",
    hosts: new Map([
      [
        "h1",
        [
          { name: "kernel", tasks: first, handlers: {}, verify: [] },
          { name: "livekit", tasks: second, handlers, verify: [] },
        ],
      ],
    ]),
  },
];

it("runs a handler notified from another role of the play once per host, after its own role", async () => {
  const session = new StubSession("h1", {});
  const { tasks: events } = await run(
    twoRoles(
      [ensure("sysctl", "set it", { notify: ["reload"] })],
      [ensure("config", "write it", { notify: ["reload"] })],
    ),
    session,
  );
  expect(events.map((e) => `${e.role}: ${e.task}`)).toEqual([
    "kernel: sysctl",
    "livekit: config",
    "livekit: handler: reload",
  ]);
  expect(session.ran).toEqual(["set it", "write it", "reload it"]);
  // Notified only by the earlier role: it still runs, at the end of the play.
  const alone = await run(
    twoRoles([ensure("sysctl", "set it", { notify: ["reload"] })], [ensure("config", "write it")]),
    new StubSession("h1", { config: true }),
  );
  expect(alone.tasks.map((e) => [e.task, e.status])).toEqual([
    ["sysctl", "changed"],
    ["config", "ok"],
    ["handler: reload", "changed"],
  ]);
});

it("with --force-handlers runs the handlers notified before a failure, and fails the host all the same", async () => {
  const failing = () => play([ensure("a", "make a", { notify: ["reload"] }), ensure("b", "false")], handlers);
  const plain = new StubSession("h1", {});
  await run(failing(), plain);
  expect(plain.ran).toEqual(["make a", "false"]);
  const forced = new StubSession("h1", {});
  const events: RunEvent[] = [];
  await runPlays(failing(), {
    check: false,
    diff: false,
    forks: 1,
    forceHandlers: true,
    connect: async () => forced,
    emit: (e) => events.push(e),
  });
  expect(forced.ran).toEqual(["make a", "false", "reload it"]);
  expect(events.at(-1)).toMatchObject({ type: "host-end", status: "failed" });
});

it("in a play with rollback, a role that fails undoes its changes of this run newest first (files put back, an operation's own undo), then runs their handlers", async () => {
  const write = (path: string) =>
    operation({
      name: `file ${path}`,
      facts: {},
      plan: () => [{ kind: "write", path, content: "new", mode: 0o644, owner: "root", group: "root" }],
      notify: ["reload"],
    });
  const replace = operation({
    name: "replace",
    facts: {},
    plan: () => [{ kind: "run", command: "replace it" }],
    undo: "put the old one back",
    commit: "let the old one go",
  });
  const failing = (rollback: boolean): PreparedPlay[] => [
    {
      name: "p",
      rollback,
      hosts: new Map([
        [
          "h1",
          [
            {
              name: "r",
              tasks: [write("/etc/a.conf"), replace, write("/etc/b.conf"), ensure("c", "false")],
              handlers,
              verify: [],
            },
          ],
        ],
      ]),
    },
  ];
  const session = new StubSession("h1", {});
  const { events, tasks: taskEvents } = await run(failing(true), session);
  expect(session.restored).toEqual([
    "/etc/b.conf <- /var/backups/rigger/_etc_b.conf.1",
    "/etc/a.conf <- /var/backups/rigger/_etc_a.conf.1",
  ]);
  expect(session.ran).toEqual(["replace it", "false", "put the old one back", "reload it"]);
  expect(taskEvents.map((e) => [e.task, e.status])).toEqual([
    ["file /etc/a.conf", "changed"],
    ["replace", "changed"],
    ["file /etc/b.conf", "changed"],
    ["c", "failed"],
    ["rollback: /etc/b.conf, replace, /etc/a.conf put back as before this run", "changed"],
    ["handler: reload", "changed"],
  ]);
  expect(events.at(-1)).toMatchObject({ type: "host-end", status: "failed" });
  // Without rollback the changes are made all the same and stay as the failed run left them; nothing is let go either.
  const plain = new StubSession("h1", {});
  await run(failing(false), plain);
  expect(plain.wrote).toEqual(["/etc/a.conf", "/etc/b.conf"]);
  expect(plain.restored).toEqual([]);
  expect(plain.ran).toEqual(["replace it", "false"]);
});

it("in a play with rollback, puts back a file that went live although what followed its rename failed", async () => {
  const session = new StubSession("h1", {});
  session.write = async (step: WriteStep) => {
    session.wrote.push(step.path);
    throw new InstalledButFailedError(
      `writing ${step.path}: the unit's reload failed`,
      "/var/backups/rigger/_etc_a.conf.1",
    );
  };
  const file = operation({
    name: "file /etc/a.conf",
    facts: {},
    plan: () => [{ kind: "write", path: "/etc/a.conf", content: "new", mode: 0o644, owner: "root", group: "root" }],
  });
  const { tasks: taskEvents } = await run(
    [{ name: "p", rollback: true, hosts: new Map([["h1", [{ name: "r", tasks: [file], handlers: {}, verify: [] }]]]) }],
    session,
  );
  expect(taskEvents.map((e) => [e.task, e.status])).toEqual([
    ["file /etc/a.conf", "failed"],
    ["rollback: /etc/a.conf put back as before this run", "changed"],
  ]);
  expect(session.restored).toEqual(["/etc/a.conf <- /var/backups/rigger/_etc_a.conf.1"]);
});

it("gives a step its own time limit over its operation's (a backup before an upgrade outlasts the container's other commands)", async () => {
  const session = new StubSession("h1", {});
  const limits: Array<[string, number | undefined]> = [];
  const run = session.run.bind(session);
  session.run = (command: string, timeoutSeconds?: number) => (limits.push([command, timeoutSeconds]), run(command));
  const upgrade = operation({
    name: "container",
    facts: {},
    plan: () => [
      { kind: "run", command: "back up", timeoutSeconds: 14_400 },
      { kind: "run", command: "replace" },
    ],
    timeoutSeconds: 600,
  });
  await runPlays(play([upgrade]), {
    check: false,
    diff: false,
    forks: 1,
    connect: async () => session,
    emit: () => undefined,
  });
  expect(limits).toEqual([
    ["back up", 14_400],
    ["replace", 600],
  ]);
});

it("lets go of what a change kept for its undo once its role has passed its checks", async () => {
  const replace = operation({
    name: "replace",
    facts: {},
    plan: () => [{ kind: "run", command: "replace it" }],
    undo: "put the old one back",
    commit: "let the old one go",
  });
  const session = new StubSession("h1", {});
  await run(
    [
      {
        name: "p",
        rollback: true,
        hosts: new Map([["h1", [{ name: "r", tasks: [replace], handlers: {}, verify: [] }]]]),
      },
    ],
    session,
  );
  expect(session.ran).toEqual(["replace it", "let the old one go"]);
});

it("keeps a handler notified before the host failed on the host, and runs it on the next run though nothing changes then", async () => {
  const failing = new StubSession("h1", {});
  await run(play([ensure("a", "make a", { notify: ["reload"] }), ensure("b", "false")], handlers), failing);
  expect(failing.ran).toEqual(["make a", "false"]);
  expect(failing.bookkeeping).toEqual([
    "mkdir -p /var/lib/rigger/pending-handlers && cd /var/lib/rigger/pending-handlers && touch reload",
  ]);
  // The next run: "a" is made already and "b" is fine, but the host still holds the pending handler.
  const next = new StubSession("h1", { a: true, b: true, "pending-handlers": ["reload"] });
  const { tasks } = await run(
    play([ensure("a", "make a", { notify: ["reload"] }), ensure("b", "false")], handlers),
    next,
  );
  expect(next.ran).toEqual(["reload it"]);
  expect(next.bookkeeping).toEqual(["rm -f /var/lib/rigger/pending-handlers/reload"]);
  expect(tasks.map((e) => [e.task, e.status])).toEqual([
    ["a", "ok"],
    ["b", "ok"],
    ["handler: reload", "changed"],
  ]);
  // In check mode the pending handler is due, and nothing is written or removed.
  const checked = new StubSession("h1", { a: true, b: true, "pending-handlers": ["reload"] });
  const dry = await run(play([ensure("a", "make a", { notify: ["reload"] })], handlers), checked, { check: true });
  expect(dry.tasks.at(-1)).toMatchObject({ task: "handler: reload", status: "changed", check: true });
  expect(checked.bookkeeping).toEqual([]);
});

it("with --start-at-task passes over every task before the named one, in every role and play", async () => {
  const session = new StubSession("h1", {});
  const plays = [
    ...twoRoles([ensure("sysctl", "set it"), ensure("unit", "write unit")], [ensure("config", "write it")]),
  ];
  const events: RunEvent[] = [];
  await runPlays(plays, {
    check: false,
    diff: false,
    forks: 1,
    startAtTask: "unit",
    connect: async () => session,
    emit: (e) => events.push(e),
  });
  expect(events.filter((e): e is TaskEvent => e.type === "task").map((e) => e.task)).toEqual(["unit", "config"]);
  expect(session.ran).toEqual(["write unit", "write it"]);
});

it("in a checks-only play runs every probe, a failed one included, and fails the host at the end", async () => {
  const probe = (name: string, command: string) =>
    operation({ name, facts: {}, plan: () => [{ kind: "probe", command, failure: `${name} is not so` }] });
  const session = new StubSession("h1", {});
  const checks = (name: string, ...verify: Operation[]): PreparedPlay => ({
    name,
    checksOnly: true,
    hosts: new Map([["h1", [{ name: "r", tasks: [], handlers: {}, verify }]]]),
  });
  const plays = [
    checks("one", probe("first", "false"), probe("second", "true")),
    checks("two", probe("third", "true")),
  ];
  const { events, tasks: taskEvents } = await run(plays, session);
  expect(taskEvents.map((e) => [e.task, e.status])).toEqual([
    ["verify: first", "failed"],
    ["verify: second", "ok"],
    ["verify: third", "ok"],
  ]);
  expect(events.at(-1)).toMatchObject({ type: "host-end", status: "failed", error: "1 check failed" });
});

it("answers a no-change run's checks from the probes read ahead with the facts: one round trip for all its plays", async () => {
  const check = (name: string, command: string, once?: string) =>
    operation({
      name,
      facts: {},
      plan: () => [{ kind: "probe", command, failure: `${name} is not so`, ...(once ? { once } : {}) }],
    });
  const role = (name: string, tasks: Operation[], verify: Operation[]) => ({ name, tasks, handlers: {}, verify });
  const plays = (): PreparedPlay[] => [
    {
      name: "one",
      hosts: new Map([
        ["h1", [role("a", [ensure("a", "make a")], [check("a answers", "wait-for-a 30", "wait-for-a 0")])]],
      ]),
    },
    { name: "two", hosts: new Map([["h1", [role("b", [], [check("b answers", "curl b")])]]]) },
  ];
  // Read ahead: each probe tried once (the waiting one without its wait), its output kept as evidence.
  const read = {
    a: true,
    "probe:wait-for-a 0": { passed: true, output: "a: OK" },
    "probe:curl b": { passed: true, output: "b: OK" },
  };
  const quiet = new StubSession("h1", read);
  const { tasks } = await run(plays(), quiet);
  expect(quiet.ran).toEqual([]);
  expect(quiet.roundTrips).toBe(1);
  expect(tasks.filter((e) => e.task.startsWith("verify")).map((e) => [e.task, e.status, e.evidence])).toEqual([
    ["verify: a answers", "ok", "a: OK"],
    ["verify: b answers", "ok", "b: OK"],
  ]);
  // A probe that failed ahead runs as declared, waiting; after a change every probe does.
  const failedAhead = new StubSession("h1", { ...read, "probe:curl b": { passed: false, output: "refused" } });
  await run(plays(), failedAhead);
  expect(failedAhead.ran).toEqual(["curl b"]);
  const changed = new StubSession("h1", { ...read, a: false });
  await run(plays(), changed);
  expect(changed.ran).toEqual(["make a", "wait-for-a 30", "curl b"]);
});

describe("a run of several plays and batches", () => {
  /** Hosts h1..hN, each a StubSession that says when it was closed. */
  const fleet = (count: number, log: string[], facts: Record<string, unknown> = {}) =>
    new Map(
      Array.from({ length: count }, (_, i) => {
        const session = new StubSession(`h${i + 1}`, facts);
        session.close = () => void log.push(`closed ${session.name}`);
        return [session.name, session] as const;
      }),
    );
  const role = (name: string, command: string) => ({
    name,
    tasks: [ensure(`${name} task`, command)],
    handlers: {},
    verify: [],
  });
  const runFleet = async (plays: PreparedPlay[], sessions: Map<string, StubSession>, log: string[]) => {
    const events: RunEvent[] = [];
    await runPlays(plays, {
      check: false,
      diff: false,
      forks: 10,
      connect: async (host) => sessions.get(host)!,
      emit: (e) => {
        events.push(e);
        if (e.type === "task") log.push(`${e.host} ${e.task}`);
      },
    });
    return events;
  };

  it("puts a rolling play's canary on a host still in the play, not on one that already failed", async () => {
    const log: string[] = [];
    const sessions = fleet(4, log);
    const plays: PreparedPlay[] = [
      {
        name: "base",
        hosts: new Map(["h1", "h2", "h3", "h4"].map((h) => [h, [role("base", h === "h1" ? "false" : "true")]])),
      },
      // h2 is broken for this play: as the canary, it must stop the rollout before h3 and h4.
      {
        name: "sfu",
        serial: [1, "100%"],
        hosts: new Map(["h1", "h2", "h3", "h4"].map((h) => [h, [role("sfu", h === "h2" ? "false" : "true")]])),
      },
    ];
    const events = await runFleet(plays, sessions, log);
    const ends = Object.fromEntries(events.flatMap((e) => (e.type === "host-end" ? [[e.host, e.status]] : [])));
    expect(ends).toEqual({ h1: "failed", h2: "failed", h3: "untouched", h4: "untouched" });
    expect(log.filter((l) => l.includes("sfu task"))).toEqual(["h2 sfu task"]);
  });

  it("releases a host's connection as soon as its last play is done with it", async () => {
    const log: string[] = [];
    const sessions = fleet(2, log);
    const plays: PreparedPlay[] = [
      { name: "both", hosts: new Map(["h1", "h2"].map((h) => [h, [role("both", "true")]])) },
      { name: "h2 only", hosts: new Map([["h2", [role("later", "true")]]]) },
    ];
    await runFleet(plays, sessions, log);
    expect(log.indexOf("closed h1")).toBeGreaterThan(-1);
    expect(log.indexOf("closed h1")).toBeLessThan(log.indexOf("h2 later task"));
    expect(log.filter((l) => l === "closed h2")).toHaveLength(1);
  });

  it("reads again, when a later batch's turn comes, the facts a host read ahead before the rollout began", async () => {
    const log: string[] = [];
    // Nothing to change: only the reads count.
    const sessions = fleet(2, log, { "first task": true, "rolling task": true });
    const plays: PreparedPlay[] = [
      { name: "first", hosts: new Map(["h1", "h2"].map((h) => [h, [role("first", "true")]])) },
      { name: "rolling", serial: 1, hosts: new Map(["h1", "h2"].map((h) => [h, [role("rolling", "true")]])) },
    ];
    await runFleet(plays, sessions, log);
    // h1 (the first batch) uses what it read ahead; h2 waited for h1's batch and reads again.
    expect(sessions.get("h1")!.roundTrips).toBe(1);
    expect(sessions.get("h2")!.roundTrips).toBe(2);
  });
});

it("in check mode fails a task whose new file its validator refuses, as the real run would, writing nothing", async () => {
  const session = new StubSession("h1", {});
  session.refusals.set(
    "/etc/caddy/Caddyfile",
    "validation failed: Error: adapting config using caddyfile: unrecognized directive: reverse_prox",
  );
  const caddyfile = operation({
    name: "template /etc/caddy/Caddyfile",
    facts: {},
    plan: () => [
      {
        kind: "write",
        path: "/etc/caddy/Caddyfile",
        content: "x",
        mode: 0o644,
        owner: "root",
        group: "root",
        validate: "caddy validate --config %s",
      },
    ],
  });
  const { tasks: events } = await run(play([caddyfile, ensure("after", "make after")]), session, { check: true });
  expect(events.map((e) => [e.task, e.status, e.error])).toEqual([
    [
      "template /etc/caddy/Caddyfile",
      "failed",
      "/etc/caddy/Caddyfile: validation failed: Error: adapting config using caddyfile: unrecognized directive: reverse_prox",
    ],
  ]);
  expect(session.wrote).toEqual([]);
});

it("in check mode leaves a validator alone while an earlier task would change the host (it may not be installed yet)", async () => {
  const session = new StubSession("h1", {});
  session.refusals.set("/etc/rigger/firewall.nft", "validation failed: nft: command not found");
  const ruleset = operation({
    name: "nftables table",
    facts: {},
    plan: () => [
      {
        kind: "write",
        path: "/etc/rigger/firewall.nft",
        content: "x",
        mode: 0o600,
        owner: "root",
        group: "root",
        validate: "nft -c -f %s",
      },
    ],
  });
  const { tasks: events } = await run(
    play([ensure("apt present nftables", "apt-get install nftables"), ruleset]),
    session,
    { check: true },
  );
  expect(events.map((e) => [e.task, e.status])).toEqual([
    ["apt present nftables", "changed"],
    ["nftables table", "changed"],
  ]);
});

it("keeps a check's charts made on the controller with its evidence, and a plain check's evidence alone", async () => {
  const local = (name: string, seen: () => Promise<string | Observation>) =>
    operation({ name, facts: {}, plan: () => [{ kind: "local", run: seen, failure: `${name} failed` }] });
  const charts = [
    { title: "round trip", unit: "ms", lines: [{ label: "a", points: [[500, 2]] as [number, number][] }] },
  ];
  const session = new StubSession("h1", {});
  const plays: PreparedPlay[] = [
    {
      name: "p",
      checksOnly: true,
      hosts: new Map([
        [
          "h1",
          [
            {
              name: "r",
              tasks: [],
              handlers: {},
              verify: [
                local("call", async () => ({ evidence: "2 browsers held the call", charts })),
                local("plain", async () => "it answered"),
              ],
            },
          ],
        ],
      ]),
    },
  ];
  const { tasks: taskEvents } = await run(plays, session);
  expect(taskEvents.map((e) => [e.task, e.status, e.evidence, e.charts])).toEqual([
    ["verify: call", "ok", "2 browsers held the call", charts],
    ["verify: plain", "ok", "it answered", undefined],
  ]);
});
