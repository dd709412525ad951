/** The benchmark workload for rigger (npm run bench): the same work as ansible.yml and pyinfra_deploy.py, under /srv/bench-rigger. */
import { z } from "zod";
import {
  apt,
  command,
  defineRole,
  definePlaybook,
  directory,
  file,
  service,
  serviceAction,
  sysctl,
  template,
  unitFile,
} from "../../../src/rigger.js";

const ROOT = "/srv/bench-rigger";
const UNIT = "[Service]\nExecStart=/bin/sleep infinity\n\n[Install]\nWantedBy=multi-user.target\n";
const asset = (path: string) => new URL(path, import.meta.url);
const units = ["a", "b"].map((name) => `bench-rigger-${name}.service`);

const workload = defineRole({
  name: "bench",
  vars: z.object({}),
  tasks: () => [
    apt({ packages: ["curl", "jq", "tree"], cacheValidSeconds: 86400 }),
    ...[ROOT, `${ROOT}/conf`, `${ROOT}/static`].map((path) => directory({ path })),
    ...Array.from({ length: 10 }, (_, i) =>
      template({
        path: `${ROOT}/conf/app${i + 1}.conf`,
        template: asset(`templates/app${i + 1}.conf.j2`),
        vars: { tool: "rigger", port: 8000 },
        notify: "restart a",
      }),
    ),
    ...["motd", "static.txt"].map((name) => file({ path: `${ROOT}/static/${name}`, source: asset(`files/${name}`) })),
    ...units.map((unit) => unitFile({ unit, content: UNIT, notify: "restart a" })),
    ...units.map((unit) => service({ unit, enabled: true, state: "started" })),
    sysctl({ key: "net.ipv4.tcp_keepalive_time", value: 600 }),
    command({ run: `date > ${ROOT}/initialized`, creates: `${ROOT}/initialized` }),
  ],
  handlers: () => ({ "restart a": serviceAction(units[0]!, "restart") }),
});

export default definePlaybook([{ name: "bench", hosts: "all", roles: [workload] }]);
