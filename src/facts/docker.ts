import { sh } from "../common/shell.js";
import { defineFact, type Fact, type FactFamily } from "./fact.js";

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

export function containerFact(name: string): Fact<ContainerState> {
  const fact = defineFact(`container:${name}`, sh`docker container inspect --format ${CONTAINER_FORMAT} ${name}`, (stdout, code) => {
    if (code !== 0) return { exists: false };
    const [running, imageId, specHash] = stdout.trim().split(" ");
    return { exists: true, running: running === "true", imageId, specHash: specHash && specHash !== "<no" ? specHash : undefined };
  });
  return { ...fact, family: { of: CONTAINERS, member: name } };
}

/**
 * The containers of a batch in one `docker container inspect`: it prints a line for each container
 * it found, led here by its id and name, and nothing for one that is missing. A container is found
 * by its name, as Docker does, else by a prefix of its id.
 */
const CONTAINERS: FactFamily = {
  command: (names) => sh`docker container inspect --format ${`{{.Id}} {{.Name}} ${CONTAINER_FORMAT}`} ${names}`,
  split(stdout, names) {
    const found = stdout
      .split("\n")
      .filter(Boolean)
      .map((line) => {
        const [id = "", name = "", ...state] = line.split(" ");
        return { id, name, state: state.join(" ") };
      });
    return names.map((member) => {
      const container = found.find((c) => c.name === `/${member}`) ?? found.find((c) => c.id.startsWith(member));
      return container ? { stdout: `${container.state}\n`, exitCode: 0 } : { stdout: "", exitCode: 1 };
    });
  },
};

export function imageFact(ref: string): Fact<ImageState> {
  return defineFact(`image:${ref}`, sh`docker image inspect --format '{{.Id}}' ${ref}`, (stdout, code) =>
    code === 0 ? { exists: true, id: stdout.trim() } : { exists: false },
  );
}

export function networkFact(name: string): Fact<NetworkState> {
  const format = "{{range .IPAM.Config}}{{.Subnet}} {{end}}|{{range .Containers}}{{.Name}} {{end}}";
  return defineFact(`network:${name}`, sh`docker network inspect --format ${format} ${name}`, (stdout, code) => {
    if (code !== 0) return { exists: false };
    const [subnets = "", containers = ""] = stdout.trim().split("|");
    return { exists: true, subnets: subnets.split(" ").filter(Boolean), containers: containers.split(" ").filter(Boolean) };
  });
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
  `command -v docker >/dev/null && docker ps --format '{{.Names}}|{{.Ports}}'`,
  (stdout, code) => {
    if (code !== 0) return [];
    return stdout
      .trim()
      .split("\n")
      .filter(Boolean)
      .flatMap((line) => {
        const [container = "", ports = ""] = line.split("|");
        return [...ports.matchAll(/(\[?[\d.:a-f]*\]?):(\d+)(?:-(\d+))?->\d+(?:-\d+)?\/(tcp|udp)/g)].flatMap((m) => {
          const first = Number(m[2]);
          const last = Number(m[3] ?? m[2]);
          return Array.from({ length: last - first + 1 }, (_, i) => ({ container, hostIp: m[1]!.replace(/^\[|\]$/g, ""), hostPort: first + i, protocol: m[4] as "tcp" | "udp" }));
        });
      });
  },
);
