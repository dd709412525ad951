import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, expect, it } from "vitest";
import { $ } from "zx";
import { earlyProbes } from "../../../src/engine/early-probes.js";
import { batchScript, parseBatch } from "../../../src/facts/fact.js";
import { waitFor } from "../../../src/ops/wait-for.js";

let server: Server;
let port: number;
beforeAll(async () => {
  server = createServer((request, response) =>
    request.url === "/ok" ? response.end("ready\n") : response.writeHead(503).end("starting\n"),
  );
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  port = (server.address() as AddressInfo).port;
});
afterAll(() => server.close());

it("tries the waits of a batch once each by one Python, each result what its own probe says", async () => {
  // A port that was free a moment ago: nothing listens there.
  const closed = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, "127.0.0.1", () => {
      const free = (probe.address() as AddressInfo).port;
      probe.close(() => resolve(free));
    });
  });
  const ops = [
    waitFor({ url: `http://127.0.0.1:${port}/ok` }),
    waitFor({ url: `http://127.0.0.1:${port}/ok`, body: "not in it" }),
    waitFor({ url: `http://127.0.0.1:${port}/starting` }),
    waitFor({ url: `http://127.0.0.1:${port}/starting`, status: 503, body: "start" }),
    waitFor({ port }),
    waitFor({ port: closed }),
  ];
  const facts = earlyProbes(ops);
  const script = batchScript(facts, "@@n");
  expect(script.match(/python3/g)).toHaveLength(1);
  const together = parseBatch(facts, "@@n", (await $`sh -c ${script}`).stdout);
  const passed = facts.map((fact) => (together.get(fact.key) as { passed: boolean }).passed);
  expect(passed).toEqual([true, false, false, true, true, false]);
  for (const fact of facts) {
    const alone = parseBatch([fact], "@@n", (await $`sh -c ${batchScript([fact], "@@n")}`).stdout);
    expect(together.get(fact.key)).toEqual(alone.get(fact.key));
  }
  expect(together.get(facts[0]!.key)).toEqual({
    passed: true,
    output: `http://127.0.0.1:${port}/ok answered 200: ready`,
  });
}, 15_000);
