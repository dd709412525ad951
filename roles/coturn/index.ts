import {
  containerRestart,
  defineRole,
  directory,
  type Mount,
  onHost,
  ownAddresses,
  sh,
  template,
  waitFor,
  when,
} from "../../src/rigger.js";
import {
  containers,
  derivedWhen,
  generatedSecrets,
  groupAddresses,
  METRICS,
  metricsCheck,
  metricsRule,
  privateFilesCheck,
  serviceContainer,
  serviceRemoval,
  turnHost,
  turnTlsOn,
} from "../matrixrtc/index.js";
import { DENIED_PEER_RANGES } from "./denied-peers.js";
import { relaysForLivekitCredentials, turnHostResolves } from "./verify.js";
import { coturnVars, type CoturnVars } from "./vars.js";

/** Where coturn's own checks reach it: turn_ip, which it alone listens on, else the host's loopback. */
const listening = (vars: CoturnVars) => vars.turn_ip ?? "127.0.0.1";

/** Where the container sees the certificate and key: outside /etc/coturn, a read-only mount in which no mount point can be made. */
const TLS_FILES = { certificate: "/etc/coturn-tls/certificate.pem", key: "/etc/coturn-tls/key.pem" };

/** coturn on the host network: time-limited credentials from the shared secret, no relaying into private networks. */
export default defineRole({
  name: "coturn",
  vars: coturnVars,
  secrets: generatedSecrets.turn,
  enabled: (vars) => vars.coturn_enabled,
  removal: (vars) => serviceRemoval(containers.coturn, `${vars.matrixrtc_config_dir}/coturn`),
  secretsOnHost: (vars) => ({
    turn_shared_secret: onHost.option(`${vars.matrixrtc_config_dir}/coturn/turnserver.conf`, "static-auth-secret"),
  }),
  // The `sfu` group's nodes may be on private addresses: relays to them are allowed.
  derive: (fleet) => derivedWhen(groupAddresses(fleet, "sfu"), (nodes) => ({ coturn_allowed_peer_ips: nodes })),
  tasks: (vars) => {
    const dir = `${vars.matrixrtc_config_dir}/coturn`;
    const tls = turnTlsOn(vars);
    const certificates: Mount[] = tls
      ? [
          { source: vars.coturn_tls_certificate!, target: TLS_FILES.certificate, readOnly: true },
          { source: vars.coturn_tls_key_path!, target: TLS_FILES.key, readOnly: true },
        ]
      : [];
    return [
      ...when(vars.turn_ip, () => ownAddresses({ addresses: [vars.turn_ip!], setting: "turn_ip" })),
      directory({ path: dir, mode: 0o750, group: String(vars.coturn_gid) }),
      template({
        path: `${dir}/turnserver.conf`,
        template: new URL("templates/turnserver.conf.hbs", import.meta.url),
        vars: {
          ...vars,
          tls,
          tlsFiles: TLS_FILES,
          turn_host: turnHost(vars),
          denied: DENIED_PEER_RANGES,
          relayIp: vars.coturn_relay_ip ?? vars.public_ip,
        },
        mode: 0o640,
        group: String(vars.coturn_gid),
        notify: "restart coturn",
        // A coturn built without Prometheus dies on the option: refused before the file goes live.
        // (Its --help exits non-zero either way, and validators run under set -e.)
        ...(vars.coturn_metrics
          ? {
              validate: `o=$(${sh`docker run --rm --network none --entrypoint turnserver ${vars.coturn_image} --prometheus --help`} 2>&1 || true); case "$o" in *"unrecognized option"*) ${sh`echo ${`coturn_metrics: ${vars.coturn_image} is built without Prometheus support (Debian's coturn package has none): use the coturn/coturn image, or set coturn_metrics: false`}`}; false ;; esac`,
            }
          : {}),
      }),
      ...serviceContainer(vars, {
        name: containers.coturn,
        image: vars.coturn_image,
        command: ["-c", "/etc/coturn/turnserver.conf"],
        mounts: [{ source: dir, target: "/etc/coturn", readOnly: true }, ...certificates],
        // Thousands of relay ports are slow to publish through Docker's proxy: the host's network instead.
        network: "host",
      }),
    ];
  },
  handlers: () => ({ "restart coturn": containerRestart(containers.coturn) }),
  names: (vars) => [turnHost(vars)],
  ports: (vars) => [
    { protocol: "udp", port: 3478, comment: "coturn: STUN/TURN" },
    { protocol: "tcp", port: 3478, comment: "coturn: STUN/TURN" },
    ...when(turnTlsOn(vars), () => ({
      protocol: "tcp" as const,
      port: vars.coturn_tls_port,
      comment: "coturn: TURN over TLS",
    })),
    { protocol: "udp", port: vars.coturn_relay_range, comment: "coturn: relay range" },
    ...when(vars.coturn_metrics, () => metricsRule(vars, "coturn", METRICS.coturn.port)),
  ],
  verify: (vars) => [
    waitFor({ name: "coturn accepts connections on 3478", host: listening(vars), port: 3478, timeoutSeconds: 20 }),
    ...when(turnTlsOn(vars), () =>
      waitFor({
        name: `coturn accepts TURN over TLS on ${vars.coturn_tls_port}`,
        host: listening(vars),
        port: vars.coturn_tls_port,
        timeoutSeconds: 20,
      }),
    ),
    turnHostResolves(vars),
    relaysForLivekitCredentials(vars),
    privateFilesCheck([`${vars.matrixrtc_config_dir}/coturn/turnserver.conf`]),
    ...when(vars.coturn_metrics, () =>
      metricsCheck("coturn", `http://127.0.0.1:${METRICS.coturn.port}/metrics`, "turn_"),
    ),
  ],
});
