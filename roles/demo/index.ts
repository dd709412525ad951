import {
  apt,
  command,
  defineRole,
  directory,
  file,
  flushHandlers,
  render,
  service,
  serviceAction,
  sysctl,
  template,
  unitFile,
  waitFor,
} from "../../src/rigger.js";
import { demoVars } from "./vars.js";

const asset = (path: string) => new URL(path, import.meta.url);

/** A small web service with a secret in its config: exercises every kind of operation. */
export default defineRole({
  name: "demo",
  vars: demoVars,
  tasks: (vars, host) => [
    apt({ packages: ["curl"] }),
    directory({ path: "/srv/demo" }),
    directory({ path: "/etc/demo", mode: 0o750 }),
    template({
      path: "/etc/demo/demo.conf",
      template: asset("templates/demo.conf.hbs"),
      vars,
      mode: 0o600,
      notify: "restart demo-web",
    }),
    template({
      path: "/srv/demo/index.html",
      template: asset("templates/index.html.hbs"),
      vars: { ...vars, host: host.name },
    }),
    file({ path: "/etc/demo/motd", source: asset("files/motd") }),
    unitFile({
      unit: "demo-web.service",
      content: render(asset("templates/demo-web.service.hbs"), {}),
      notify: "restart demo-web",
    }),
    service({ unit: "demo-web.service", enabled: true, state: "started" }),
    sysctl({ key: "net.ipv4.tcp_keepalive_time", value: vars.demo_keepalive_seconds }),
    command({ run: "date -u > /var/lib/demo-initialized", creates: "/var/lib/demo-initialized" }),
    flushHandlers(),
    waitFor({ url: `http://127.0.0.1:${vars.demo_port}/`, body: vars.demo_greeting, timeoutSeconds: 20 }),
  ],
  handlers: () => ({
    "restart demo-web": serviceAction("demo-web.service", "restart"),
  }),
});
