import {
  containerFact,
  imageFact,
  networkFact,
  SPEC_HASH_LABEL,
  type ContainerState,
  type ImageState,
} from "../facts/docker.js";
import { fileFact, type FileState } from "../facts/file.js";
import { sha256Hex } from "../common/hash.js";
import { sh } from "../common/shell.js";
import { operation, taskOptions, type Operation, type Step, type TaskOptions } from "./operation.js";
import { runOptions, specHash, type ContainerSpec } from "./docker-spec.js";

/** Docker's own `name` (of the network, of the container) takes the place of a task name here. */
type DockerTaskOptions = Omit<TaskOptions, "name">;

export interface NetworkArgs extends DockerTaskOptions {
  name: string;
  subnet?: string;
}

/**
 * A user-defined bridge network; one with another subnet is recreated if no container uses it.
 * @example dockerNetwork({ name: "matrixrtc" })
 */
export function dockerNetwork(args: NetworkArgs): Operation {
  const create = sh`docker network create ${args.subnet ? ["--subnet", args.subnet] : []} ${args.name}`;
  return operation({
    name: `docker network ${args.name}`,
    facts: { network: networkFact(args.name) },
    plan: ({ network }) => {
      if (!network.exists) return [{ kind: "run", command: create }];
      if (!args.subnet || network.subnets?.includes(args.subnet)) return [];
      if (network.containers?.length)
        throw new Error(
          `network ${args.name} has subnet ${network.subnets?.join(", ")}, not ${args.subnet}, and containers use it: ${network.containers.join(", ")}`,
        );
      return [{ kind: "run", command: `${sh`docker network rm ${args.name}`} && ${create}` }];
    },
    ...taskOptions(args),
  });
}

export interface ImageArgs extends TaskOptions {
  /** A pinned reference: `registry/name:tag` or `name@sha256:...`. */
  ref: string;
}

/**
 * An image present on the host, pulled only when it is missing (a pinned tag or digest does not move).
 * @example dockerImage({ ref: "docker.io/livekit/livekit-server:v1.13.5" })
 */
export function dockerImage(args: ImageArgs): Operation {
  if (/:latest$/.test(args.ref) || !/[:@]/.test(args.ref.split("/").pop()!))
    throw new Error(`image ${args.ref}: pin a tag or digest (never latest)`);
  return operation({
    name: args.name ?? `docker image ${args.ref}`,
    facts: { image: imageFact(args.ref) },
    plan: ({ image }) => (image.exists ? [] : [{ kind: "run", command: sh`docker pull --quiet ${args.ref}` }]),
    ...taskOptions(args),
  });
}

/** Fails, with the last lines of its log, a container that is not running a second after it started. */
const startedCheck = (name: string) =>
  `{ sleep 1; [ "$(${sh`docker container inspect --format '{{.State.Status}}' ${name}`})" = running ] || ` +
  `{ echo ${sh`${`container ${name} did not stay up; the last lines of its log:`}`} >&2; ${sh`docker logs --tail 20 ${name}`} 2>&1 | sed 's/^/  /' >&2; false; }; }`;

const previousOf = (name: string) => `${name}.rigger-previous`;

/**
 * Replaces a container so that a failed replacement leaves the old one serving: the old container
 * is stopped and kept aside, the new one started. When the new one does not stay up it is removed
 * and the old one started again, and the output says so; when it does, the old one waits aside
 * until its role has passed its checks (commitReplacement) or failed them (undoReplacement).
 */
function replaceContainer(name: string, run: string): string {
  const previous = previousOf(name);
  return [
    sh`docker rm --force ${previous} >/dev/null 2>&1 || true`,
    `if ${sh`docker container inspect ${name}`} >/dev/null 2>&1; then ${sh`docker stop --time 10 ${name} >/dev/null && docker rename ${name} ${previous}`}; fi`,
    `if ! { ${run} >/dev/null && ${startedCheck(name)}; }; then`,
    sh`  docker rm --force ${name} >/dev/null 2>&1 || true`,
    `  { ${undoReplacement(name)}; } >&2`,
    "  false",
    "fi",
  ].join("\n");
}

/** Puts the container kept aside back in place of the new one, and says so (nothing when none is aside). */
function undoReplacement(name: string): string {
  const previous = previousOf(name);
  return (
    `if ${sh`docker container inspect ${previous}`} >/dev/null 2>&1; then ` +
    `old=$(${sh`docker container inspect --format '{{.Image}}' ${previous}`}) && ${sh`docker rm --force ${name} >/dev/null 2>&1; docker rename ${previous} ${name} && docker start ${name} >/dev/null`} && ` +
    `${sh`echo ${`rolled back: ${name} runs its previous container again (image`}`} "\${old#sha256:})"; fi`
  );
}

/** Removes the container kept aside, and the image it ran when the new one runs another (what an upgrade replaced). */
function commitReplacement(name: string): string {
  const previous = previousOf(name);
  return [
    `old=$(${sh`docker container inspect --format '{{.Image}}' ${previous}`} 2>/dev/null) || exit 0`,
    sh`docker rm --force ${previous} >/dev/null`,
    `if [ "$old" != "$(${sh`docker container inspect --format '{{.Image}}' ${name}`})" ] && docker image rm "$old" >/dev/null 2>&1; then echo "removed the image it replaced (\${old#sha256:})"; fi`,
  ].join("\n");
}

/**
 * A container matching its spec: created when missing, recreated only when the spec (or the image
 * behind its tag) changed, started when stopped. Its spec hash travels in a label. A recreation
 * that does not stay up puts the previous container back at once (replaceContainer); one that does
 * keeps it aside until its role's checks have passed, or failed in a play with rollback.
 * @example dockerContainer({ name: "matrixrtc-redis", image: "redis:7.4.1", network: "matrixrtc", mounts: [{ source: "/etc/matrixrtc/redis", target: "/etc/redis", readOnly: true }] })
 */
export function dockerContainer(spec: ContainerSpec & DockerTaskOptions): Operation {
  const hash = specHash(spec);
  const run = sh`docker run --detach ${[...runOptions(spec, hash), spec.image, ...(spec.command ?? [])]}`;
  const recreate = replaceContainer(spec.name, run);
  const envFile = spec.envFile;
  return operation({
    name: `container ${spec.name}`,
    facts: {
      container: containerFact(spec.name),
      image: imageFact(spec.image),
      ...(envFile ? { envFile: fileFact(envFile.path) } : {}),
    },
    plan: ({
      container,
      image,
      envFile: envFileState,
    }: {
      container: ContainerState;
      image: ImageState;
      envFile?: FileState;
    }) => {
      const writeEnv: Step[] =
        envFile &&
        (envFileState?.sha256 !== sha256Hex(envFile.content) ||
          envFileState.mode !== 0o600 ||
          envFileState.owner !== "root")
          ? [{ kind: "write", path: envFile.path, content: envFile.content, mode: 0o600, owner: "root", group: "root" }]
          : [];
      const stale =
        !container.exists || container.specHash !== hash || (image.exists && image.id !== container.imageId);
      const upgrade = spec.beforeUpgrade && container.exists && image.exists && image.id !== container.imageId;
      const before: Step[] = upgrade
        ? [{ kind: "run", ...spec.beforeUpgrade!, announce: "a new image: backing up before the upgrade" }]
        : [];
      if (stale) return [...writeEnv, ...before, { kind: "run", command: recreate }];
      if (writeEnv.length) return writeEnv;
      if (!container.running)
        return [{ kind: "run", command: `${sh`docker start ${spec.name}`} >/dev/null && ${startedCheck(spec.name)}` }];
      return [];
    },
    undo: undoReplacement(spec.name),
    commit: commitReplacement(spec.name),
    ...taskOptions(spec),
  });
}

/**
 * No container of this name (a component turned off): removed when there is one.
 * @example dockerContainerAbsent("matrixrtc-element-call")
 */
export function dockerContainerAbsent(name: string): Operation {
  return operation({
    name: `no container ${name}`,
    facts: { container: containerFact(name) },
    plan: ({ container }: { container: ContainerState }) => {
      if (!container.exists) return [];
      // Only a container rigger made carries its spec's hash: another of this name is the operator's.
      if (!container.specHash)
        throw new Error(
          `the container ${name} was not made by rigger (no ${SPEC_HASH_LABEL} label): left as it is; remove or rename it yourself`,
        );
      return [{ kind: "run", command: sh`docker rm --force ${name}` }];
    },
  });
}

/**
 * A handler's action: restart a container (a bind-mounted config changed).
 * @example handlers: () => ({ "restart redis": containerRestart("matrixrtc-redis") })
 */
export function containerRestart(name: string): Operation {
  return operation({
    name: `restart container ${name}`,
    facts: {},
    plan: () => [{ kind: "run", command: sh`docker restart ${name}` }],
  });
}

const STARTUP_GRACE_SECONDS = 5;

/**
 * A handler's action for a service that drains on SIGTERM (takes no new work, finishes what runs,
 * exits when done): stopped with up to `drainSeconds` of grace, which the output shows as it
 * begins, then started again. The output says whether it drained or was stopped by force.
 * @example handlers: () => ({ "restart livekit": containerDrainRestart("matrixrtc-livekit", 600, "calls on this node") })
 */
export function containerDrainRestart(name: string, drainSeconds: number, what: string): Operation {
  const format = "{{.State.ExitCode}}";
  const command = [
    // As PID 1 a service ignores SIGTERM until it has installed its handler: one started moments
    // ago (a rollback's restart) first gets the rest of its first seconds, or the stop would wait out the grace.
    sh`since=$(docker inspect --format '{{.State.StartedAt}}' ${name})`,
    'up=$(( $(date +%s) - $(date -d "$since" +%s) ))',
    `if [ "$up" -lt ${STARTUP_GRACE_SECONDS} ]; then sleep $(( ${STARTUP_GRACE_SECONDS} - up )); fi`,
    "started=$(date +%s)",
    sh`docker stop --time ${String(drainSeconds)} ${name} >/dev/null`,
    sh`code=$(docker inspect --format ${format} ${name})`,
    "took=$(( $(date +%s) - started ))",
    sh`docker start ${name} >/dev/null`,
    // 137: killed, the grace ran out.
    sh`if [ "$code" = 137 ]; then printf '%s still going after %s s: stopped by force, then started\n' ${what} "$took"; else echo "drained in $took s, then started"; fi`,
  ].join(" && ");
  return operation({
    name: `restart container ${name} (drain-aware)`,
    facts: {},
    plan: () => [
      {
        kind: "run",
        command,
        announce: `draining: waiting up to ${drainSeconds} s for the ${what} on this node to end before the restart`,
      },
    ],
    timeoutSeconds: drainSeconds + 60,
  });
}
