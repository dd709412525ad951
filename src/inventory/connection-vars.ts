import { accessSync, constants, existsSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { readSshArgs } from "../connection/ssh-args.js";
import { ConfigError, configErrors } from "./errors.js";
import type { InventoryHost } from "./load.js";

const port = z.coerce.number().int().min(1).max(65535);
const seconds = (max: number) => z.coerce.number().int().min(1).max(max);
const bool = z.union([
  z.boolean(),
  z.enum(["true", "false", "yes", "no"]).transform((v) => v === "true" || v === "yes"),
]);

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
  rigger_known_hosts_file: z
    .string()
    .min(1)
    .default(join(homedir(), ".ssh", "known_hosts")),
});

export type ConnectionVars = z.infer<typeof connectionVarsSchema>;

/** Ansible's other names for them (older ones, and the ssh plugin's own): the canonical name wins when both are set. */
const ALIASES: Record<string, keyof ConnectionVars> = {
  ansible_ssh_host: "ansible_host",
  ansible_ssh_port: "ansible_port",
  ansible_ssh_user: "ansible_user",
  ansible_become_pass: "ansible_become_password",
  ansible_sudo_pass: "ansible_become_password",
  ansible_private_key_file: "ansible_ssh_private_key_file",
  ansible_ssh_extra_args: "ansible_ssh_common_args",
};

/** Ansible's connection variables rigger cannot honour, and why: set, they stop the run before any connection. */
const REFUSED: Record<string, (value: unknown) => string | undefined> = {
  ansible_password: () =>
    "rigger logs in with keys only (ssh-agent or ansible_ssh_private_key_file), never an SSH password: remove it and give the host a key",
  ansible_ssh_pass: () =>
    "rigger logs in with keys only (ssh-agent or ansible_ssh_private_key_file), never an SSH password: remove it and give the host a key",
  ansible_connection: (value) =>
    ["ssh", "smart", "paramiko"].includes(String(value))
      ? undefined
      : `rigger reaches every host over SSH; connection "${String(value)}" is not supported (use ssh)`,
};

/** Set, they are ignored, with a warning saying why. */
const IGNORED: Record<string, string> = {
  ansible_python_interpreter: "ignored: rigger runs nothing of its own on a host, so it needs no Python there",
};

export const CONNECTION_VAR_NAMES = [
  ...Object.keys(connectionVarsSchema.shape),
  ...Object.keys(ALIASES),
  ...Object.keys(REFUSED),
  ...Object.keys(IGNORED),
];

/** The Ansible connection variables of these hosts that rigger ignores: one warning per variable and file that sets it. */
export function connectionWarnings(hosts: InventoryHost[]): string[] {
  const warnings = new Set<string>();
  for (const host of hosts)
    for (const key of Object.keys(IGNORED))
      if (key in host.vars) warnings.add(`${host.origins[key] ?? "extra vars"}: ${key}: ${IGNORED[key]}`);
  return [...warnings];
}

/** Validates a host's connection variables; an error names the file that set the bad value. */
export function connectionVars(host: InventoryHost, vars: Record<string, unknown> = host.vars): ConnectionVars {
  for (const [key, reason] of Object.entries(REFUSED)) {
    const refused = key in vars ? reason(vars[key]) : undefined;
    if (refused) throw new ConfigError(host.origins[key] ?? "extra vars", `${host.name}.${key}`, refused);
  }
  const canonical = { ...vars };
  for (const [alias, name] of Object.entries(ALIASES))
    if (alias in vars && !(name in vars)) canonical[name] = vars[alias];
  const picked = Object.fromEntries(
    Object.keys(connectionVarsSchema.shape)
      .filter((k) => k in canonical)
      .map((k) => [k, canonical[k]]),
  );
  const parsed = connectionVarsSchema.safeParse(picked);
  if (parsed.success)
    return withKnownHosts(host, vars, withKeyFile(host, withSshArgs(host, vars, parsed.data), ALIASES));
  const problems = parsed.error.issues.map(({ path, message }) => {
    const key = String(path[0]);
    // Named as the operator wrote it (an alias, maybe).
    const written =
      key in vars ? key : (Object.keys(ALIASES).find((alias) => ALIASES[alias] === key && alias in vars) ?? key);
    return {
      file: host.origins[written] ?? "extra vars",
      keyPath: `${host.name}.${written}`,
      expected: describeIssue(key, message),
    };
  });
  throw configErrors(problems, "connection settings refused");
}

/** Ansible's extra ssh arguments, read now: one rigger cannot honour stops the run before any connection. */
function withSshArgs(host: InventoryHost, given: Record<string, unknown>, vars: ConnectionVars): ConnectionVars {
  try {
    readSshArgs(vars.ansible_ssh_common_args);
  } catch (error) {
    const written = "ansible_ssh_common_args" in given ? "ansible_ssh_common_args" : "ansible_ssh_extra_args";
    throw new ConfigError(
      host.origins[written] ?? "--ssh-common-args or -e",
      `${host.name}.${written}`,
      (error as Error).message,
    );
  }
  return vars;
}

/** The known_hosts file, where it exists, proved readable before any connection (a missing one is the first contact: --accept-new-host-keys). */
function withKnownHosts(host: InventoryHost, given: Record<string, unknown>, vars: ConnectionVars): ConnectionVars {
  const file = vars.rigger_known_hosts_file;
  const origin =
    host.origins.rigger_known_hosts_file ?? ("rigger_known_hosts_file" in given ? "extra vars" : "the default");
  const refuse = (why: string) =>
    new ConfigError(
      origin,
      `${host.name}.rigger_known_hosts_file`,
      `${file}: ${why}: where the hosts' keys are checked`,
    );
  if (!existsSync(file)) return vars;
  if (!statSync(file).isFile()) throw refuse("not a file");
  try {
    accessSync(file, constants.R_OK);
  } catch (error) {
    throw refuse(`cannot be read (${(error as NodeJS.ErrnoException).code})`);
  }
  return vars;
}

/** The private key file, `~/` expanded, proved readable before any connection (not found then as an unreachable host). */
function withKeyFile(host: InventoryHost, vars: ConnectionVars, aliases: Record<string, string>): ConnectionVars {
  const given = vars.ansible_ssh_private_key_file;
  if (given === undefined) return vars;
  const file = given.startsWith("~/") ? join(homedir(), given.slice(2)) : given;
  try {
    accessSync(file, constants.R_OK);
  } catch (error) {
    const written =
      "ansible_ssh_private_key_file" in host.vars
        ? "ansible_ssh_private_key_file"
        : Object.keys(aliases).find((alias) => aliases[alias] === "ansible_ssh_private_key_file" && alias in host.vars);
    throw new ConfigError(
      host.origins[written ?? ""] ?? "--private-key or -e",
      `${host.name}.${written ?? "ansible_ssh_private_key_file"}`,
      `${file}: cannot be read (${(error as NodeJS.ErrnoException).code}): the private key to log in with`,
    );
  }
  return { ...vars, ansible_ssh_private_key_file: file };
}

function describeIssue(key: string, message: string): string {
  if (key === "ansible_port") return "expected an integer port from 1 to 65535";
  if (key === "ansible_become") return "expected true or false";
  if (key === "rigger_ssh_keepalive") return "expected whole seconds from 1 to 3600";
  if (key === "rigger_ssh_keepalive_count") return "expected a count from 1 to 100";
  return `expected a non-empty string (${message})`;
}
