import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import Handlebars from "handlebars";
import { file, type FileArgs } from "./files.js";
import type { Operation } from "./operation.js";

/** Renders a handlebars template strictly: a missing variable is an error naming template and variable. */
export function render(templateFile: string | URL, vars: Record<string, unknown>): string {
  const path = templateFile instanceof URL ? fileURLToPath(templateFile) : templateFile;
  const compiled = Handlebars.compile(readFileSync(path, "utf8"), { strict: true, noEscape: true });
  try {
    return compiled(vars);
  } catch (error) {
    const missing = /"([^"]+)" not defined/.exec((error as Error).message)?.[1];
    throw new Error(`template ${path}: ${missing ? `the variable "${missing}" is not defined` : (error as Error).message}`);
  }
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
