/** Checks several roles make: metrics served, ports published where they should be, secrets kept private. */
import { check, sh } from "../../src/rigger.js";
import { type Published, bindHost } from "./topology.js";

/** A check that a Prometheus endpoint on the host serves the service's own metrics (their names start with `prefix`); it prints how many samples. */
export const metricsCheck = (service: string, url: string, prefix: string) =>
  check({
    name: `${service} serves Prometheus metrics at ${url}`,
    command: `out=$(${sh`curl -sS --max-time 10 ${url}`}) && printf '%s\n' "$out" | ${sh`grep -c ${`^${prefix}`}`}`,
    timeoutSeconds: 20,
    failure: `${url} serves no ${prefix}* metrics`,
  });

/** A check that a container publishes no port: it stays on the services' Docker network. */
export const unpublishedCheck = (container: string, service: string) =>
  check({
    name: `${service} publishes no port`,
    command: `[ -z "$(${sh`docker port ${container}`})" ] && echo 'docker port: nothing published'`,
    failure: `${container} publishes a port: ${service} must stay on the Docker network`,
  });

/** A check that these files exist and no other user can read them (secrets on the host). */
export const privateFilesCheck = (paths: string[]) =>
  check({
    name: "its secrets are not readable by other users",
    command: `${sh`stat -c '%a %U:%G %n' ${paths}`} && [ -z "$(${sh`find ${paths} -perm /o+r`})" ]`,
    failure: `a secret file is missing or readable by every user: ${paths.join(", ")}`,
  });

/** A check that a container publishes its port on the bind address only (the proxy reaches it there). */
export const publishedOnlyCheck = (vars: Published, container: string, port?: string) =>
  check({
    name: `its ${port ?? "port"} is published on ${vars.matrixrtc_bind_address} only`,
    command: `out=$(${sh`docker port ${container} ${port ? [port] : []}`}) && [ -n "$out" ] && ! printf '%s\\n' "$out" | ${sh`grep -vE ${`(^| )${bindHost(vars).replace(/[.[\]]/g, "\\$&")}:`}`} && printf '%s\\n' "$out"`,
    failure: `${container} publishes a port on an address other than ${vars.matrixrtc_bind_address} (Docker-published ports bypass the host firewall)`,
  });
