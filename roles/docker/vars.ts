import { z } from "zod";

export const dockerVars = z.object({
  /** "debian": Debian's docker.io (the default, tested). "docker": Docker's own apt repository (docker-ce, untested here). */
  docker_source: z.enum(["debian", "docker"]).default("debian"),
  /** The Debian release of Docker's repository (only with docker_source "docker"). */
  docker_debian_codename: z.string().default("bookworm"),
  /** json-file log rotation: the size of one file. */
  docker_log_max_size: z
    .string()
    .regex(/^\d+[kmg]$/, "expected a size such as 10m")
    .default("10m"),
  /** json-file log rotation: how many files are kept. */
  docker_log_max_files: z.number().int().min(1).default(3),
  /** More daemon.json settings, merged over the log settings (e.g. insecure-registries). */
  docker_daemon_options: z.record(z.string(), z.unknown()).default({}),
});
