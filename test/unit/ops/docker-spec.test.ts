import { expect, it } from "vitest";
import { runOptions, specHash, type ContainerSpec } from "../../../src/ops/docker-spec.js";

const spec: ContainerSpec = {
  name: "livekit",
  image: "docker.io/livekit/livekit-server:v1.13.5",
  command: ["--config", "/etc/livekit/livekit.yaml"],
  env: { B: "2", A: "1" },
  envFile: { path: "/etc/livekit/env", content: "LIVEKIT_SECRET=one\n" },
  inputs: ["keys: one"],
  extraHosts: { "matrix.example.test": "172.30.0.11" },
  mounts: [{ source: "/etc/livekit", target: "/etc/livekit", readOnly: true }],
  ports: [
    { hostIp: "127.0.0.1", hostPort: 7880, containerPort: 7880 },
    { hostPort: "50000-50100", containerPort: "50000-50100", protocol: "udp" },
  ],
  network: "matrix",
  restart: "always",
  labels: { z: "last", a: "first" },
  healthcheck: { command: "wget -qO- http://127.0.0.1:7880/", intervalSeconds: 10 },
  user: "1000:1000",
  capAdd: ["NET_BIND_SERVICE"],
  capDrop: ["ALL"],
};

it("turns every field of a spec into docker run options, in a fixed order", () => {
  expect(runOptions(spec, "h")).toEqual([
    "--name",
    "livekit",
    "--restart",
    "always",
    "--network",
    "matrix",
    "--user",
    "1000:1000",
    "--env-file",
    "/etc/livekit/env",
    "--env",
    "A=1",
    "--env",
    "B=2",
    "--volume",
    "/etc/livekit:/etc/livekit:ro",
    "--publish",
    "127.0.0.1:7880:7880/tcp",
    "--publish",
    "50000-50100:50000-50100/udp",
    "--add-host",
    "matrix.example.test:172.30.0.11",
    "--cap-add",
    "NET_BIND_SERVICE",
    "--cap-drop",
    "ALL",
    "--health-cmd",
    "wget -qO- http://127.0.0.1:7880/",
    "--health-interval",
    "10s",
    "--health-timeout",
    "5s",
    "--health-retries",
    "3",
    "--label",
    "a=first",
    "--label",
    "z=last",
    "--label",
    "rigger.spec-hash=h",
  ]);
  expect(runOptions({ name: "jwt", image: "x:1", healthcheck: "none" }, "h")).toContain("--no-healthcheck");
});

it("hashes the same spec the same whatever the order of its maps, and any change differently", () => {
  const reordered = { ...spec, env: { A: "1", B: "2" }, labels: { a: "first", z: "last" } };
  expect(specHash(reordered)).toBe(specHash(spec));
  expect(specHash({ ...spec, env: { A: "1", B: "3" } })).not.toBe(specHash(spec));
  expect(specHash({ ...spec, image: "docker.io/livekit/livekit-server:v1.13.6" })).not.toBe(specHash(spec));
  expect(specHash({ ...spec, command: ["--dev"] })).not.toBe(specHash(spec));
  expect(specHash({ ...spec, ports: [] })).not.toBe(specHash(spec));
  // What the container reads at start counts, not only where it is.
  expect(specHash({ ...spec, envFile: { path: "/etc/livekit/env", content: "LIVEKIT_SECRET=two\n" } })).not.toBe(
    specHash(spec),
  );
  expect(specHash({ ...spec, inputs: ["keys: two"] })).not.toBe(specHash(spec));
});
