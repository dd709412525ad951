import { apt, check, command, defineRole, directory, file, service, serviceAction } from "../../src/rigger.js";
import { dockerVars } from "./vars.js";

const DOCKER_KEY = "/etc/apt/keyrings/docker.asc";

/** Docker Engine, its daemon.json (log rotation at least), enabled and running. */
export default defineRole({
  name: "docker",
  vars: dockerVars,
  tasks: (vars) => {
    const daemonJson = {
      "log-driver": "json-file",
      "log-opts": { "max-size": vars.docker_log_max_size, "max-file": String(vars.docker_log_max_files) },
      ...vars.docker_daemon_options,
    };
    const engine =
      vars.docker_source === "debian"
        ? // curl: the services' probes ask them over HTTP(S) as their clients do.
          [apt({ packages: ["docker.io", "curl"] })]
        : [
            apt({ packages: ["ca-certificates", "curl"] }),
            directory({ path: "/etc/apt/keyrings" }),
            command({
              run: `curl -fsSL https://download.docker.com/linux/debian/gpg -o ${DOCKER_KEY}`,
              creates: DOCKER_KEY,
            }),
            file({
              path: "/etc/apt/sources.list.d/docker.list",
              content: `deb [signed-by=${DOCKER_KEY}] https://download.docker.com/linux/debian ${vars.docker_debian_codename} stable\n`,
            }),
            command({
              run: "apt-get -q update",
              creates: `/var/lib/apt/lists/download.docker.com_linux_debian_dists_${vars.docker_debian_codename}_InRelease`,
            }),
            apt({ packages: ["docker-ce", "docker-ce-cli", "containerd.io"] }),
          ];
    return [
      ...engine,
      directory({ path: "/etc/docker" }),
      file({
        path: "/etc/docker/daemon.json",
        content: JSON.stringify(daemonJson, null, 2) + "\n",
        notify: "restart docker",
      }),
      service({ unit: "docker.service", enabled: true, state: "started" }),
    ];
  },
  handlers: () => ({ "restart docker": serviceAction("docker.service", "restart") }),
  verify: (vars) => [
    check({
      name: "docker answers, with json-file log rotation",
      command: `docker info --format '{{.LoggingDriver}}' | grep -qx json-file && docker info --format 'docker {{.ServerVersion}}, log driver {{.LoggingDriver}}'`,
      failure: `docker does not answer, or its log driver is not json-file (max-size ${vars.docker_log_max_size})`,
    }),
  ],
});
