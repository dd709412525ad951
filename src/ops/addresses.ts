import { addressesFact } from "../facts/addresses.js";
import { operation, type Operation } from "./operation.js";

export interface OwnAddressesArgs {
  /** The addresses a service is about to listen on. */
  addresses: string[];
  /** The setting they come from, named in the error. */
  setting: string;
}

/**
 * Fails the host, before anything listens there, when an address is not one of its own: a service
 * told to listen on it would not start. Changes nothing.
 * @example ownAddresses({ addresses: ["203.0.113.7"], setting: "turn_ip" })
 */
export function ownAddresses(args: OwnAddressesArgs): Operation {
  return operation({
    name: `${args.setting} (${args.addresses.join(", ")}) belongs to this host`,
    facts: { own: addressesFact },
    plan: ({ own }) => {
      const foreign = args.addresses.filter((address) => !own.includes(address.toLowerCase()));
      if (foreign.length)
        throw new Error(
          `${args.setting}: ${foreign.join(", ")} is not an address of this host (it has ${own.join(", ")}); ` +
            "behind 1:1 NAT, give the host's own address",
        );
      return [];
    },
  });
}
