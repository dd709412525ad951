import { sh } from "../common/shell.js";
import type { FactFamily } from "../facts/fact.js";
import { check } from "./check.js";
import { taskOptions, type Operation, type TaskOptions } from "./operation.js";

interface WaitCommon extends TaskOptions {
  timeoutSeconds?: number;
}

export interface WaitForPort extends WaitCommon {
  port: number;
  host?: string;
}

export interface WaitForUrl extends WaitCommon {
  url: string;
  status?: number;
  /** A substring the response body must contain. */
  body?: string;
}

/**
 * The probe, as a Python one-off on the host (python3 is on every Debian host we manage): one
 * target tried until it answers or the time is up, or (`many`) several targets tried once each, at
 * the same time, their results NUL-separated: exit code, then what it saw.
 */
const PROBE = `
import json, socket, sys, threading, time, urllib.request, urllib.error
def attempt(kind, target, status, body):
    try:
        if kind == "tcp":
            host, port = target.rsplit(":", 1)
            socket.create_connection((host, int(port)), 2).close()
            return True, "%s accepts connections" % target
        try:
            response = urllib.request.urlopen(target, timeout=2)
            code, text = response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            code, text = error.code, error.read().decode("utf-8", "replace")
        if code == status and body in text:
            return True, "%s answered %d: %s" % (target, code, text.strip()[:300])
        return False, "status %d%s" % (code, "" if body in text else ", body without the expected text")
    except (OSError, ValueError) as error:
        return False, str(error)
if sys.argv[1] == "many":
    probes = [json.loads(arg) for arg in sys.argv[2:]]
    results = [(False, "no answer")] * len(probes)
    def run(i):
        results[i] = attempt(*probes[i])
    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(probes))]
    [thread.start() for thread in threads]
    [thread.join() for thread in threads]
    sys.stdout.write("".join("%d\\0%s\\0" % (0 if ok else 1, text.replace("\\0", "")) for ok, text in results))
    sys.exit(0)
kind, target, status, body, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
deadline = time.monotonic() + timeout
while True:
    ok, text = attempt(kind, target, status, body)
    if ok or time.monotonic() > deadline:
        print(text)
        sys.exit(0 if ok else 1)
    time.sleep(0.5)
`;

/** The waits of a batch tried once by one Python, not one each (its start-up is most of a probe's cost). */
const WAITS: FactFamily = {
  command: (probes) => sh`python3 -c ${PROBE} many ${probes}`,
  split(stdout, probes) {
    const fields = stdout.split("\0");
    // A result that is missing (Python failed) reads as a probe that did not pass: it runs again as declared.
    return probes.map((_, i) =>
      fields[2 * i + 1] === undefined
        ? { stdout: "no result", exitCode: 1 }
        : { stdout: `${fields[2 * i + 1]}\n`, exitCode: Number(fields[2 * i]) },
    );
  },
};

/**
 * Waits until a TCP port accepts connections, or a URL answers with a status (and body).
 * @example waitFor({ name: "synapse answers", url: "http://127.0.0.1:8008/_matrix/client/versions", timeoutSeconds: 60 })
 */
export function waitFor(args: WaitForPort | WaitForUrl): Operation {
  const timeout = args.timeoutSeconds ?? 30;
  const [kind, target, status, body] =
    "url" in args
      ? ["http", args.url, args.status ?? 200, args.body ?? ""]
      : ["tcp", `${args.host ?? "127.0.0.1"}:${args.port}`, 0, ""];
  const expected =
    kind === "http"
      ? `${target} to answer ${status}${body ? ` with "${body}"` : ""}`
      : `${target} to accept connections`;
  return check({
    name: args.name ?? `wait for ${target}`,
    command: sh`python3 -c ${PROBE} ${kind} ${target} ${status} ${body} ${timeout}`,
    once: sh`python3 -c ${PROBE} ${kind} ${target} ${status} ${body} 0`,
    family: { of: WAITS, member: JSON.stringify([kind, target, status, body]) },
    failure: `waited ${timeout} s for ${expected}`,
    ...taskOptions(args),
  });
}
