import { readFileSync, statSync } from "node:fs";
import { parseDocument, type Tags } from "yaml";
import { ConfigError } from "./errors.js";

/** `!env NAME`: the value of an environment variable of the controller, read at load time. */
export class EnvReference {
  constructor(readonly variable: string) {}
}

/** `!secret NAME`: a value from the inventory's secrets store. */
export class SecretReference {
  constructor(readonly name: string) {}
}

/** `!age |` at the root of secrets.yaml: the store, encrypted (armored age ciphertext). */
export class AgeSealed {
  constructor(readonly armored: string) {}
}

const customTags: Tags = [
  { tag: "!env", resolve: (value: string) => new EnvReference(value) as unknown as string },
  { tag: "!secret", resolve: (value: string) => new SecretReference(value) as unknown as string },
  { tag: "!age", resolve: (value: string) => new AgeSealed(value) as unknown as string },
];

export function readYaml(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (error) {
    throw new ConfigError(file, "", `cannot be read (${(error as NodeJS.ErrnoException).code ?? String(error)})`);
  }
  const document = parseDocument(text, { customTags, uniqueKeys: true });
  const problem = document.errors[0];
  const where = (p: { linePos?: [{ line: number; col: number }, ...unknown[]] }) =>
    p.linePos?.[0] ? `line ${p.linePos[0].line}, column ${p.linePos[0].col}` : "";
  if (problem) {
    // yaml's first line, without the position it repeats; its code frame is left out, since the line may hold a secret.
    const said = problem.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
    const key =
      problem.code === "DUPLICATE_KEY" ? /^["']?([^"':\n]+)/.exec(text.slice(problem.pos[0]))?.[1] : undefined;
    throw new ConfigError(
      file,
      "",
      `invalid YAML at ${where(problem)}: ${said}${key ? ` (${key.trim()} is set twice)` : ""}`,
    );
  }
  // yaml only warns about a tag it does not know, and reads the tagged value as plain text: a
  // `!vault` value would be taken as its ciphertext.
  const unknownTag = document.warnings.find((w) => w.code === "TAG_RESOLVE_FAILED");
  if (unknownTag) {
    const tag = /tag:?\s*(\S+)/i.exec(unknownTag.message)?.[1] ?? "";
    throw new ConfigError(
      file,
      where(unknownTag),
      `the tag ${tag} is not one rigger reads (!secret NAME, !env NAME)${/vault/.test(tag) ? ": Ansible Vault values are not decrypted; put the value in the secrets store (rigger secrets set -i <inventory> NAME) and write !secret NAME here" : ""}`,
    );
  }
  return document.toJS() as unknown;
}

export function isWorldReadable(file: string): boolean {
  return (statSync(file).mode & 0o004) !== 0;
}

export function isMapping(value: unknown): value is Record<string, unknown> {
  return (
    typeof value === "object" &&
    value !== null &&
    !Array.isArray(value) &&
    !(value instanceof EnvReference) &&
    !(value instanceof SecretReference) &&
    !(value instanceof AgeSealed)
  );
}
