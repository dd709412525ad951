import { z } from "zod";

const port = z.number().int().min(1).max(65535);

export const firewallVars = z.object({
  /** "nftables": one table of rigger's own (the default). "ufw": for hosts that already use ufw. */
  firewall_backend: z.enum(["nftables", "ufw"]).default("nftables"),
  /** The SSH port, opened first and always; by default the port sshd serves the run on, as the host sees it. */
  firewall_ssh_port: port.optional(),
  /** Rules beyond those the play's roles declare. */
  firewall_extra_rules: z
    .array(
      z.object({
        protocol: z.enum(["tcp", "udp"]),
        port: z.union([port, z.tuple([port, port]).refine(([a, b]) => a <= b, "a range goes from low to high")]),
        comment: z.string().optional(),
        /** Only these addresses or CIDR ranges may connect (nftables only); unset: everyone. */
        sources: z
          .array(z.string().regex(/^[\da-f.:]+(\/\d+)?$/i, "expected an IP address or CIDR range"))
          .min(1)
          .optional(),
      }),
    )
    .default([]),
  /** After a change the host restores the previous rules by itself unless a new SSH connection succeeds in time. */
  firewall_rollback_seconds: z
    .number()
    .int()
    .min(15, "expected at least 15 s: the new connection may take 10 s")
    .default(30),
});
