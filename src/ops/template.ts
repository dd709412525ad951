import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import Handlebars from "handlebars";
import { file, type FileArgs } from "./files.js";
import type { Operation } from "./operation.js";

// `{{json value}}`: a value as a JSON literal, which is also valid YAML: quoting done right once.
Handlebars.registerHelper("json", (value: unknown) => JSON.stringify(value));

/** Renders a handlebars template strictly: a missing variable is an error naming template and variable. */
export function render(templateFile: string | URL, vars: Record<string, unknown>): string {
  const path = templateFile instanceof URL ? fileURLToPath(templateFile) : templateFile;
  const source = readFileSync(path, "utf8");
  try {
    return Handlebars.compile(source, { strict: true, noEscape: true })(vars);
  } catch (error) {
    throw new Error(`template ${path}: ${describeMissing(source, (error as Error).message)}`);
  }
}

/** Handlebars names only the last segment ("key"); the mustache at its position has the whole path. */
function describeMissing(source: string, message: string): string {
  const found = /^"([^"]+)" not defined.* - (\d+):(\d+)$/.exec(message);
  if (!found) return message;
  const [, name, line, column] = found;
  const text = source.split("\n")[Number(line) - 1] ?? "";
  const open = text.lastIndexOf("{{", Number(column));
  const expression = open >= 0 ? /^\{\{[#/^]?\s*([^}\s]*)/.exec(text.slice(open))?.[1] : undefined;
  return `the variable "${expression?.endsWith(name!) ? expression : name}" is not defined (line ${line})`;
}

export interface TemplateArgs extends Omit<FileArgs, "content" | "source"> {
  template: string | URL;
  vars: Record<string, unknown>;
}

/** A file rendered from a handlebars template on the controller. */
export function template(args: TemplateArgs): Operation {
  const { template: templateFile, vars, ...rest } = args;
  return file({ ...rest, name: rest.name ?? `template ${rest.path}`, content: render(templateFile, vars) });
}
