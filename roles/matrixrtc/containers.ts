/** A service's container on the services' network, and what turning a service off takes away. */
import {
  absent,
  check,
  dockerContainer,
  dockerContainerAbsent,
  dockerImage,
  dockerNetwork,
  sh,
  type ContainerSpec,
  type Operation,
} from "../../src/rigger.js";

/**
 * A service's container on the services' Docker network (one network: two bridges break ICE
 * replies), its pinned image pulled first; or on the host's network when `network` says "host".
 */
export function serviceContainer(
  vars: { matrixrtc_network: string },
  spec: Omit<ContainerSpec, "network"> & { network?: "host" },
): Operation[] {
  const network = spec.network ?? vars.matrixrtc_network;
  return [
    ...(network === "host" ? [] : [dockerNetwork({ name: network })]),
    dockerImage({ ref: spec.image }),
    dockerContainer({ ...spec, network }),
  ];
}

/**
 * What turning a service off takes away: its container and its config directory (data directories
 * stay: they are the operator's to delete), and the check that both are gone.
 */
export const serviceRemoval = (container: string, configDir: string) => ({
  tasks: [dockerContainerAbsent(container), absent({ path: configDir })],
  verify: [
    check({
      name: `${container} and ${configDir} are gone`,
      command: `! ${sh`docker container inspect ${container}`} >/dev/null 2>&1 && ${sh`[ ! -e ${configDir} ]`} && echo gone`,
      failure: `${container} or ${configDir} is still there although the component is turned off`,
    }),
  ],
});
