import { sh } from "../common/shell.js";
import { ABSENT, defineFact, type Fact, type FactFamily } from "./fact.js";

export interface ContainerState {
  exists: boolean;
  running?: boolean;
  /** The image the container was created from (an image id). */
  imageId?: string;
  /** The hash of the spec it was created from, carried in a label. */
  specHash?: string;
}

export interface ImageState {
  exists: boolean;
  id?: string;
}

export interface NetworkState {
  exists: boolean;
  subnets?: string[];
  containers?: string[];
}

export const SPEC_HASH_LABEL = "rigger.spec-hash";

const CONTAINER_FORMAT = `{{.State.Running}} {{.Image}} {{index .Config.Labels "${SPEC_HASH_LABEL}"}}`;

/** A Docker command with Docker's own words on stdout; no docker at all: absent, as everything it would hold. */
const docker = (command: string) => `command -v docker >/dev/null || exit ${ABSENT}; ${command} 2>&1`;
const NOT_THERE = /No such (container|image|network|object)/;

/**
 * Whether Docker found the object: false when it said there is none (or there is no Docker); a
 * Docker that could not be asked (its daemon down) is an error, never taken for "absent".
 */
function found(what: string, stdout: string, code: number): boolean {
  if (code === 0) return true;
  if (code === ABSENT || NOT_THERE.test(stdout)) return false;
  throw new Error(`docker could not tell about ${what}: ${stdout.trim() || `exit ${code}`}`);
}

export function containerFact(name: string): Fact<ContainerState> {
  const fact = defineFact(
    `container:${name}`,
    docker(sh`docker container inspect --format ${CONTAINER_FORMAT} ${name}`),
    (stdout, code) => {
      if (!found(`container ${name}`, stdout, code)) return { exists: false };
      const [running, imageId, specHash] = stdout.trim().split(" ");
      return {
        exists: true,
        running: running === "true",
        imageId,
        specHash: specHash && specHash !== "<no" ? specHash : undefined,
      };
    },
  );
  return { ...fact, family: { of: CONTAINERS, member: name } };
}

/**
 * The containers of a batch in one `docker container inspect`: it prints a line for each container
 * it found, led here by its id and name, and nothing for one that is missing. A container is found
 * by its name, as Docker does, else by a prefix of its id.
 */
const CONTAINERS: FactFamily = {
  command: (names) => docker(sh`docker container inspect --format ${`{{.Id}} {{.Name}} ${CONTAINER_FORMAT}`} ${names}`),
  split(stdout, names, exitCode) {
    if (exitCode === ABSENT) return names.map(() => ({ stdout: "", exitCode }));
    const lines = stdout.split("\n").filter(Boolean);
    // Each found container's line; Docker's "No such container" for each missing one; anything else is a failed read.
    const failure = lines.find((line) => !/^\S+ \/\S+ (true|false) /.test(line) && !NOT_THERE.test(line));
    if (failure) throw new Error(`docker could not tell about the containers: ${failure}`);
    const containers = lines
      .filter((line) => !NOT_THERE.test(line))
      .map((line) => {
        const [id = "", name = "", ...state] = line.split(" ");
        return { id, name, state: state.join(" ") };
      });
    return names.map((member) => {
      const container =
        containers.find((c) => c.name === `/${member}`) ?? containers.find((c) => c.id.startsWith(member));
      return container
        ? { stdout: `${container.state}\n`, exitCode: 0 }
        : { stdout: `Error: No such container: ${member}\n`, exitCode: 1 };
    });
  },
};

export function imageFact(ref: string): Fact<ImageState> {
  return defineFact(`image:${ref}`, docker(sh`docker image inspect --format '{{.Id}}' ${ref}`), (stdout, code) =>
    found(`image ${ref}`, stdout, code) ? { exists: true, id: stdout.trim() } : { exists: false },
  );
}

export function networkFact(name: string): Fact<NetworkState> {
  const format = "{{range .IPAM.Config}}{{.Subnet}} {{end}}|{{range .Containers}}{{.Name}} {{end}}";
  return defineFact(
    `network:${name}`,
    docker(sh`docker network inspect --format ${format} ${name}`),
    (stdout, code) => {
      if (!found(`network ${name}`, stdout, code)) return { exists: false };
      const [subnets = "", containers = ""] = stdout.trim().split("|");
      return {
        exists: true,
        subnets: subnets.split(" ").filter(Boolean),
        containers: containers.split(" ").filter(Boolean),
      };
    },
  );
}

export interface PublishedPort {
  container: string;
  hostIp: string;
  hostPort: number;
  protocol: "tcp" | "udp";
}

/** Every port a running container publishes on the host, with the address it is bound to. */
export const publishedPortsFact: Fact<PublishedPort[]> = defineFact(
  "docker-published-ports",
  docker("docker ps --format '{{.Names}}|{{.Ports}}'"),
  (stdout, code) => {
    if (!found("the running containers", stdout, code)) return [];
    return stdout
      .trim()
      .split("\n")
      .filter(Boolean)
      .flatMap((line) => {
        const [container = "", ports = ""] = line.split("|");
        return [...ports.matchAll(/(\[?[\d.:a-f]*\]?):(\d+)(?:-(\d+))?->\d+(?:-\d+)?\/(tcp|udp)/g)].flatMap((m) => {
          const first = Number(m[2]);
          const last = Number(m[3] ?? m[2]);
          return Array.from({ length: last - first + 1 }, (_, i) => ({
            container,
            hostIp: m[1]!.replace(/^\[|\]$/g, ""),
            hostPort: first + i,
            protocol: m[4] as "tcp" | "udp",
          }));
        });
      });
  },
);
