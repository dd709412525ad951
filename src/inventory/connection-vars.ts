import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { ConfigError, firstIssue } from "./errors.js";
import type { InventoryHost } from "./load.js";

const port = z.coerce.number().int().min(1).max(65535);
const seconds = (max: number) => z.coerce.number().int().min(1).max(max);
const bool = z.union([z.boolean(), z.enum(["true", "false", "yes", "no"]).transform((v) => v === "true" || v === "yes")]);

/** The connection variables, under Ansible's names, and what each must hold. Unset ones fall back to ~/.ssh/config. */
export const connectionVarsSchema = z.object({
  ansible_host: z.string().min(1).optional(),
  ansible_port: port.optional(),
  ansible_user: z.string().min(1).optional(),
  ansible_ssh_private_key_file: z.string().min(1).optional(),
  ansible_become: bool.default(false),
  ansible_become_user: z.string().min(1).default("root"),
  ansible_become_password: z.string().optional(),
  /** Ansible's extra ssh arguments: rigger reads a ProxyJump from them (`-J hop` or `-o ProxyJump=hop`). */
  ansible_ssh_common_args: z.string().optional(),
  /** Seconds between keepalives; the host is given up after rigger_ssh_keepalive_count of them pass in silence. */
  rigger_ssh_keepalive: seconds(3600).optional(),
  rigger_ssh_keepalive_count: seconds(100).optional(),
  rigger_known_hosts_file: z.string().min(1).default(join(homedir(), ".ssh", "known_hosts")),
});

export type ConnectionVars = z.infer<typeof connectionVarsSchema>;
export const CONNECTION_VAR_NAMES = Object.keys(connectionVarsSchema.shape);

/** Validates a host's connection variables; an error names the file that set the bad value. */
export function connectionVars(host: InventoryHost, vars: Record<string, unknown> = host.vars): ConnectionVars {
  const picked = Object.fromEntries(CONNECTION_VAR_NAMES.filter((k) => k in vars).map((k) => [k, vars[k]]));
  const parsed = connectionVarsSchema.safeParse(picked);
  if (parsed.success) return parsed.data;
  const { key, message } = firstIssue(parsed.error);
  throw new ConfigError(host.origins[key] ?? "extra vars", `${host.name}.${key}`, describeIssue(key, message));
}

function describeIssue(key: string, message: string): string {
  if (key === "ansible_port") return "expected an integer port from 1 to 65535";
  if (key === "ansible_become") return "expected true or false";
  if (key === "rigger_ssh_keepalive") return "expected whole seconds from 1 to 3600";
  if (key === "rigger_ssh_keepalive_count") return "expected a count from 1 to 100";
  return `expected a non-empty string (${message})`;
}
