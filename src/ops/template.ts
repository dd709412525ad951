import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import Handlebars from "handlebars";
import { isMap, parseDocument } from "yaml";
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
  /**
   * Settings the template did not foresee (an operator's `<role>_config_extra`), deep-merged into
   * the rendered YAML or JSON (by the path's extension): mappings merge, anything else replaces.
   */
  extra?: Record<string, unknown>;
}

/**
 * A file rendered from a handlebars template on the controller.
 * @example template({ path: "/etc/caddy/Caddyfile", template: new URL("templates/Caddyfile.hbs", import.meta.url), vars, notify: "reload caddy" })
 */
export function template(args: TemplateArgs): Operation {
  const { template: templateFile, vars, extra, ...rest } = args;
  const rendered = render(templateFile, vars);
  const content = extra && Object.keys(extra).length ? mergeInto(rendered, extra, rest.path) : rendered;
  return file({ ...rest, name: rest.name ?? `template ${rest.path}`, content });
}

/** The rendered config with the extra settings merged in; a YAML file keeps its comments. */
function mergeInto(rendered: string, extra: Record<string, unknown>, path: string): string {
  if (path.endsWith(".json"))
    return `${JSON.stringify(deepMerge(JSON.parse(rendered) as Record<string, unknown>, extra), null, 2)}\n`;
  if (!/\.ya?ml$/.test(path)) throw new Error(`${path}: extra settings merge into YAML or JSON only`);
  const document = parseDocument(rendered);
  const merge = (at: unknown[], value: unknown) => {
    if (isPlainObject(value) && Object.keys(value).length && isMap(document.getIn(at, true)))
      for (const [key, inner] of Object.entries(value)) merge([...at, key], inner);
    else document.setIn(at, value);
  };
  for (const [key, value] of Object.entries(extra)) merge([key], value);
  return document.toString({ lineWidth: 0 });
}

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === "object" && value !== null && !Array.isArray(value);

function deepMerge(base: Record<string, unknown>, extra: Record<string, unknown>): Record<string, unknown> {
  const out = { ...base };
  for (const [key, value] of Object.entries(extra))
    out[key] = isPlainObject(value) && isPlainObject(out[key]) ? deepMerge(out[key], value) : value;
  return out;
}
