import { sh } from "../common/shell.js";
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

/** The probe, as a Python one-off on the host (python3 is on every Debian host we manage). */
const PROBE = `
import socket, sys, time, urllib.request, urllib.error
kind, target, status, body, timeout = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4], float(sys.argv[5])
deadline, last = time.monotonic() + timeout, "no answer"
while True:
    try:
        if kind == "tcp":
            host, port = target.rsplit(":", 1)
            socket.create_connection((host, int(port)), 2).close()
            print("%s accepts connections" % target)
            sys.exit(0)
        try:
            response = urllib.request.urlopen(target, timeout=2)
            code, text = response.status, response.read().decode("utf-8", "replace")
        except urllib.error.HTTPError as error:
            code, text = error.code, error.read().decode("utf-8", "replace")
        if code == status and body in text:
            print("%s answered %d: %s" % (target, code, text.strip()[:300]))
            sys.exit(0)
        last = "status %d%s" % (code, "" if body in text else ", body without the expected text")
    except (OSError, ValueError) as error:
        last = str(error)
    if time.monotonic() > deadline:
        print(last)
        sys.exit(1)
    time.sleep(0.5)
`;

/** Waits until a TCP port accepts connections, or a URL answers with a status (and body). */
export function waitFor(args: WaitForPort | WaitForUrl): Operation {
  const timeout = args.timeoutSeconds ?? 30;
  const [kind, target, status, body] =
    "url" in args ? ["http", args.url, args.status ?? 200, args.body ?? ""] : ["tcp", `${args.host ?? "127.0.0.1"}:${args.port}`, 0, ""];
  const expected = kind === "http" ? `${target} to answer ${status}${body ? ` with "${body}"` : ""}` : `${target} to accept connections`;
  return check({
    name: args.name ?? `wait for ${target}`,
    command: sh`python3 -c ${PROBE} ${kind} ${target} ${status} ${body} ${timeout}`,
    once: sh`python3 -c ${PROBE} ${kind} ${target} ${status} ${body} 0`,
    failure: `waited ${timeout} s for ${expected}`,
    ...taskOptions(args),
  });
}
