/**
 * The scale workload for rigger (npm run bench -- --light): what light hosts (sshd alone, no
 * systemd) can run, the same work as scale.yml and scale_deploy.py, under /srv/scale-rigger:
 * directories, 10 templates, 2 copied files, a guarded command, package facts, a sysctl read.
 */
import { z } from "zod";
import { apt, check, command, defineRole, definePlaybook, directory, file, template } from "../../../src/rigger.js";

const ROOT = "/srv/scale-rigger";
const asset = (path: string) => new URL(path, import.meta.url);

const workload = defineRole({
  name: "scale",
  vars: z.object({}),
  tasks: () => [
    apt({ packages: ["openssh-server", "python3"] }),
    ...[ROOT, `${ROOT}/conf`, `${ROOT}/static`].map((path) => directory({ path })),
    ...Array.from({ length: 10 }, (_, i) =>
      template({
        path: `${ROOT}/conf/app${i + 1}.conf`,
        template: asset(`templates/app${i + 1}.conf.j2`),
        vars: { tool: "rigger", port: 8000 },
      }),
    ),
    ...["motd", "static.txt"].map((name) => file({ path: `${ROOT}/static/${name}`, source: asset(`files/${name}`) })),
    command({ run: `date > ${ROOT}/initialized`, creates: `${ROOT}/initialized` }),
  ],
  verify: () => [
    check({
      name: "sysctl net.ipv4.tcp_keepalive_time is readable",
      command: "sysctl -n net.ipv4.tcp_keepalive_time",
      failure: "cannot read the sysctl",
    }),
  ],
});

export default definePlaybook([{ name: "scale", hosts: "all", roles: [workload] }]);
