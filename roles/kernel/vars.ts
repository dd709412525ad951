import { z } from "zod";

export const kernelVars = z.object({
  /** net.core.rmem_max: LiveKit wants at least 5,000,000; MDAD sets 7,500,000. */
  kernel_rmem_max: z.number().int().min(212992).default(7500000),
  /** net.core.wmem_max, the same for sending. */
  kernel_wmem_max: z.number().int().min(212992).default(7500000),
  /**
   * "unless-container": persist always, apply unless the host is a container (whose network
   * namespace refuses these keys); true: always apply; false: persist only (applied at boot).
   */
  kernel_apply: z.union([z.boolean(), z.literal("unless-container")]).default("unless-container"),
  /** Handlers (of another role of the play) to notify when a buffer size changes: the SFU reads them at start. */
  kernel_notify: z.array(z.string()).default([]),
});
