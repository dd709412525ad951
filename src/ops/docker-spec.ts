/** A container as rigger wants it: its spec, the `docker run` options it becomes, and the fingerprint that says whether a running container still matches. */
import { createHash } from "node:crypto";
import { SPEC_HASH_LABEL } from "../facts/docker.js";

export interface PortMapping {
  /** The host address to bind; internal services bind 127.0.0.1 (published ports bypass the host firewall). */
  hostIp?: string;
  hostPort: number | string;
  containerPort: number | string;
  protocol?: "tcp" | "udp";
}

export interface Mount {
  source: string;
  target: string;
  readOnly?: boolean;
}

export interface ContainerSpec {
  name: string;
  image: string;
  command?: string[];
  /** Plain settings only: values here are on `docker run`'s command line, which local users can read. */
  env?: Record<string, string>;
  /**
   * Settings that must stay off the command line: the operation writes this file (0600, over SFTP)
   * and its content is part of the spec, so a changed value recreates the container (a restart
   * would not re-read it). `docker inspect` still shows these values to whoever may run it.
   */
  envFile?: { path: string; content: string };
  /** Content the container reads only when it starts (a key, a config): part of the spec, never in argv. */
  inputs?: string[];
  /** Extra /etc/hosts entries: name -> address. */
  extraHosts?: Record<string, string>;
  mounts?: Mount[];
  ports?: PortMapping[];
  network?: string;
  restart?: "no" | "always" | "unless-stopped" | "on-failure";
  labels?: Record<string, string>;
  /** A command run in the container (`CMD-SHELL` form), or "none" to disable the image's own check. */
  healthcheck?: { command: string; intervalSeconds?: number; timeoutSeconds?: number; retries?: number } | "none";
  user?: string;
  /** A command run on the host before a running container is replaced by one of another image (a backup of the data it holds), under its own time limit; not part of the spec. */
  beforeUpgrade?: { command: string; timeoutSeconds: number };
  capAdd?: string[];
  capDrop?: string[];
}

/** `docker run` options for a spec, in a fixed order so that the same spec always hashes the same. */
export function runOptions(spec: ContainerSpec, specHash: string): string[] {
  const sorted = <T>(record: Record<string, T> = {}) => Object.entries(record).sort(([a], [b]) => a.localeCompare(b));
  const health = spec.healthcheck;
  return [
    "--name",
    spec.name,
    "--restart",
    spec.restart ?? "unless-stopped",
    ...(spec.network ? ["--network", spec.network] : []),
    ...(spec.user ? ["--user", spec.user] : []),
    ...(spec.envFile ? ["--env-file", spec.envFile.path] : []),
    ...sorted(spec.env).flatMap(([k, v]) => ["--env", `${k}=${v}`]),
    ...(spec.mounts ?? []).flatMap((m) => ["--volume", `${m.source}:${m.target}${m.readOnly ? ":ro" : ""}`]),
    ...(spec.ports ?? []).flatMap((p) => [
      "--publish",
      `${p.hostIp ? `${p.hostIp}:` : ""}${p.hostPort}:${p.containerPort}/${p.protocol ?? "tcp"}`,
    ]),
    ...sorted(spec.extraHosts).flatMap(([name, address]) => ["--add-host", `${name}:${address}`]),
    ...(spec.capAdd ?? []).flatMap((c) => ["--cap-add", c]),
    ...(spec.capDrop ?? []).flatMap((c) => ["--cap-drop", c]),
    ...(health === "none" ? ["--no-healthcheck"] : []),
    ...(health && health !== "none"
      ? [
          "--health-cmd",
          health.command,
          "--health-interval",
          `${health.intervalSeconds ?? 30}s`,
          "--health-timeout",
          `${health.timeoutSeconds ?? 5}s`,
          "--health-retries",
          String(health.retries ?? 3),
        ]
      : []),
    ...sorted(spec.labels).flatMap(([k, v]) => ["--label", `${k}=${v}`]),
    "--label",
    `${SPEC_HASH_LABEL}=${specHash}`,
  ];
}

/** The spec's fingerprint: its options, image and command, and the content of what it reads at start. */
export function specHash(spec: ContainerSpec): string {
  return createHash("sha256")
    .update(
      JSON.stringify([
        runOptions(spec, ""),
        spec.image,
        spec.command ?? [],
        spec.envFile?.content ?? null,
        spec.inputs ?? [],
      ]),
    )
    .digest("hex")
    .slice(0, 16);
}
