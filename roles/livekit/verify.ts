import { connect } from "node:net";
import { check, localCheck, sh } from "../../src/rigger.js";
import { containers } from "../matrixrtc/index.js";
import type { LivekitVars } from "./vars.js";

/** How long a client's ICE/TCP connection to LiveKit may take here before the address counts as unreachable. */
const CONNECT_SECONDS = 5;

/**
 * The address LiveKit gives clients for media: the nodeIP its last start logged (or, that line
 * rotated out of Docker's log, its config's node_ip), printed, and compared with public_ip.
 */
function advertisedIsPublicIp(vars: LivekitVars) {
  const config = `${vars.matrixrtc_config_dir}/livekit/livekit.yaml`;
  const script = [
    sh`start=$(docker logs ${containers.livekit} 2>&1 | grep -F 'starting LiveKit server' | tail -n 1)`,
    `ip=$(printf '%s' "$start" | sed -n 's/.*"nodeIP": *"\\([^"]*\\)".*/\\1/p')`,
    `from="nodeIP of its start"`,
    `if [ -z "$ip" ]; then ip=$(${sh`sed -n 's/^ *node_ip: *"\\{0,1\\}\\([^"]*\\)"\\{0,1\\}$/\\1/p' ${config}`}); from="its config's node_ip; its start has left its log"; fi`,
    sh`want=${vars.public_ip}`,
    `if [ "$ip" = "$want" ]; then echo "LiveKit advertises $ip ($from)"; else echo "LiveKit advertises \${ip:-no address} ($from), not public_ip $want: clients send media where it is not"; exit 1; fi`,
  ].join("\n");
  return check({
    name: "livekit advertises public_ip to clients",
    command: script,
    timeoutSeconds: 10,
    failure: `LiveKit does not advertise public_ip ${vars.public_ip}`,
  });
}

/** A client's ICE/TCP connection to the advertised address, made from the controller as from the Internet. */
function reachesIceTcp(vars: LivekitVars) {
  const [address, port] = [vars.public_ip, vars.livekit_tcp_port];
  return localCheck({
    name: `livekit's ICE/TCP port answers at public_ip from this machine`,
    failure: `LiveKit advertises ${address}, and its ICE/TCP port ${address}:${port} cannot be reached from this machine: clients get no media ("waiting for media"); is public_ip the address clients reach the host at, and is ${port}/tcp open on the way?`,
    run: () =>
      new Promise((resolve, reject) => {
        const started = performance.now();
        const socket = connect({ host: address, port, timeout: CONNECT_SECONDS * 1000 });
        socket.on("connect", () => {
          socket.destroy();
          resolve(`${address}:${port} accepted a connection in ${Math.round(performance.now() - started)} ms`);
        });
        socket.on("timeout", () => socket.destroy(new Error(`no answer within ${CONNECT_SECONDS} s`)));
        socket.on("error", (error) => reject(new Error(`${address}:${port}: ${error.message}`)));
      }),
  });
}

/** Where clients are told to send media, and that they can. */
export const advertisedAddressChecks = (vars: LivekitVars) => [advertisedIsPublicIp(vars), reachesIceTcp(vars)];
