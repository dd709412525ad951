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

const customTags: Tags = [
  { tag: "!env", resolve: (value: string) => new EnvReference(value) as unknown as string },
  { tag: "!secret", resolve: (value: string) => new SecretReference(value) as unknown as string },
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
  if (problem) {
    const [line, column] = problem.linePos?.[0] ? [problem.linePos[0].line, problem.linePos[0].col] : [0, 0];
    throw new ConfigError(file, "", `invalid YAML at line ${line}, column ${column}: ${problem.message.split("\n")[0]}`);
  }
  return document.toJS() as unknown;
}

export function isWorldReadable(file: string): boolean {
  return (statSync(file).mode & 0o004) !== 0;
}

export function isMapping(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof EnvReference) && !(value instanceof SecretReference);
}
