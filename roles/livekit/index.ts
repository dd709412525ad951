import {
  check,
  containerDrainRestart,
  defineRole,
  directory,
  file,
  onHost,
  type PortMapping,
  sh,
  template,
  waitFor,
  when,
} from "../../src/rigger.js";
import {
  containers,
  metricsCheck,
  metricsRule,
  generatedSecrets,
  livekitKeyFile,
  livekitUdp,
  privateFilesCheck,
  publishedOnlyCheck,
  serviceContainer,
  turnHost,
} from "../matrixrtc/index.js";
import { livekitApiOnHost, livekitDerived, webhookUrl } from "./derive.js";
import { advertisedAddressChecks } from "./verify.js";
import { livekitVars, type LivekitVars } from "./vars.js";

/** The LiveKit SFU: livekit.yaml and its key file (0600) in a mounted directory, restarted when either changes. */
export default defineRole({
  name: "livekit",
  vars: livekitVars,
  secrets: { ...generatedSecrets.livekitKeys, ...generatedSecrets.turn, ...generatedSecrets.redis },
  derive: livekitDerived,
  secretsOnHost: (vars) => {
    const dir = `${vars.matrixrtc_config_dir}/livekit`;
    return {
      livekit_api_key: onHost.keyFile(`${dir}/keys.yaml`, 0),
      livekit_api_secret: onHost.keyFile(`${dir}/keys.yaml`, 1),
      turn_shared_secret: onHost.yaml(`${dir}/livekit.yaml`, "rtc", "turn_servers", 0, "secret"),
      redis_password: onHost.yaml(`${dir}/livekit.yaml`, "redis", "password"),
    };
  },
  tasks: (vars) => {
    const dir = `${vars.matrixrtc_config_dir}/livekit`;
    const udp = livekitUdp(vars);
    return [
      directory({ path: dir, mode: 0o700 }),
      template({
        path: `${dir}/livekit.yaml`,
        template: new URL("templates/livekit.yaml.hbs", import.meta.url),
        vars: {
          ...vars,
          udpRange: Array.isArray(udp) ? udp : null,
          udpPort: Array.isArray(udp) ? null : udp,
          webhookUrl: webhookUrl(vars),
          turn_host: turnHost(vars),
        },
        extra: vars.livekit_config_extra,
        mode: 0o600,
        validate: parsedByLivekit(vars.livekit_image),
        notify: "restart livekit",
      }),
      file({ path: `${dir}/keys.yaml`, content: livekitKeyFile(vars), mode: 0o600, notify: "restart livekit" }),
      ...when(vars.livekit_ca_certificates, () =>
        file({
          path: `${dir}/ca-certificates.pem`,
          content: vars.livekit_ca_certificates,
          mode: 0o644,
          notify: "restart livekit",
        }),
      ),
      ...serviceContainer(vars, {
        name: containers.livekit,
        image: vars.livekit_image,
        command: ["--config", "/etc/livekit/livekit.yaml"],
        // Go reads SSL_CERT_FILE in place of the bundle file, and the image's certificate folders still.
        ...(vars.livekit_ca_certificates ? { env: { SSL_CERT_FILE: "/etc/livekit/ca-certificates.pem" } } : {}),
        mounts: [{ source: dir, target: "/etc/livekit", readOnly: true }],
        ports: published(vars),
        // The webhook's URL names matrix_host: without public DNS it resolves through these.
        extraHosts: vars.matrixrtc_extra_hosts,
      }),
    ];
  },
  // LiveKit drains on SIGTERM: running calls go on, new rooms go to other nodes.
  handlers: (vars) => ({
    "restart livekit": containerDrainRestart(containers.livekit, vars.livekit_drain_seconds, "calls"),
  }),
  ports: (vars) => {
    const udp = livekitUdp(vars);
    return [
      ...when(vars.livekit_api_clients.length, () => ({
        protocol: "tcp" as const,
        port: vars.livekit_port,
        sources: vars.livekit_api_clients,
        comment: "livekit: API, for the proxy",
      })),
      { protocol: "tcp", port: vars.livekit_tcp_port, comment: "livekit: ICE/TCP" },
      { protocol: "udp", port: udp, comment: Array.isArray(udp) ? "livekit: ICE/UDP range" : "livekit: ICE/UDP mux" },
      ...when(vars.metrics_clients.length, () => metricsRule(vars, "livekit", vars.livekit_metrics_port)),
    ];
  },
  verify: (vars) => [
    waitFor({ name: "livekit answers OK", url: `${livekitApiOnHost(vars)}/`, body: "OK", timeoutSeconds: 30 }),
    ...advertisedAddressChecks(vars),
    check({
      name: "livekit creates no room by itself (room.auto_create: false)",
      command: `grep -x '  auto_create: false' ${vars.matrixrtc_config_dir}/livekit/livekit.yaml`,
      failure: "room.auto_create is not false in livekit.yaml: any valid token would create rooms",
    }),
    privateFilesCheck([
      `${vars.matrixrtc_config_dir}/livekit/livekit.yaml`,
      `${vars.matrixrtc_config_dir}/livekit/keys.yaml`,
    ]),
    ...(vars.livekit_api_clients.length ? [] : [publishedOnlyCheck(vars, containers.livekit, "7880/tcp")]),
    ...when(vars.metrics_clients.length, () =>
      metricsCheck("livekit", `http://127.0.0.1:${vars.livekit_metrics_port}/metrics`, "livekit_"),
    ),
  ],
});

const span = (ports: [number, number] | number) => (Array.isArray(ports) ? `${ports[0]}-${ports[1]}` : String(ports));

/**
 * The published ports: the API on loopback only (Caddy fronts it) unless Caddy runs elsewhere
 * (then the firewall admits those hosts only), ICE/TCP and the UDP port or range to the world.
 */
function published(vars: LivekitVars): PortMapping[] {
  const udp = span(livekitUdp(vars));
  return [
    {
      ...(vars.livekit_api_clients.length ? {} : { hostIp: vars.matrixrtc_bind_address }),
      hostPort: vars.livekit_port,
      containerPort: 7880,
    },
    { hostPort: vars.livekit_tcp_port, containerPort: vars.livekit_tcp_port },
    { hostPort: udp, containerPort: udp, protocol: "udp" },
    ...when(vars.metrics_clients.length, () => ({
      hostPort: vars.livekit_metrics_port,
      containerPort: vars.livekit_metrics_port,
    })),
  ];
}

/**
 * LiveKit's own strict parser on a new livekit.yaml (%s, the new file's path), without starting a
 * server: a livekit_config_extra LiveKit cannot read never goes live, and check mode says so. It
 * says "could not parse config" and exits 0 all the same: its output decides (echo rather than
 * printf keeps %s the only one).
 */
const parsedByLivekit = (image: string) =>
  `{ o=$(${sh`docker run --rm --network none -v`} %s:/tmp/livekit.yaml:ro ${sh`${image} --config /tmp/livekit.yaml ports`} 2>&1) || { echo "$o"; false; }; } && ! echo "$o" | grep -A3 'could not parse config'`;
