/**
 * Each role's settings table, made from its schema: the names and defaults from the zod schema the
 * role reads, the meaning from each setting's doc comment (found by TypeScript's checker, through
 * the spreads of roles/matrixrtc/schemas.ts). `npm run docs` writes the tables into the role READMEs
 * between the markers; test/unit/docs/settings-tables.test.ts fails when a README differs.
 */
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";
import type { z } from "zod";
import type { Role } from "../../src/rigger.js";

export const ROLES_DIR = resolve(import.meta.dirname, "../../roles");
export const BEGIN = "<!-- settings: made from the role's schema by `npm run docs`; edit the doc comments there -->";
export const END = "<!-- end of settings -->";

export interface Setting {
  name: string;
  default: string;
  meaning: string;
}

/** The roles with a README (roles/sites and roles/matrixrtc are parts of others). */
export const documentedRoles = (): string[] =>
  readdirSync(ROLES_DIR)
    .filter((name) => existsSync(join(ROLES_DIR, name, "README.md")))
    .sort();

/** Where a role declares its schema: vars.ts, or index.ts for a role with a few settings. */
const schemaFile = (role: string) =>
  [join(ROLES_DIR, role, "vars.ts"), join(ROLES_DIR, role, "index.ts")].find((file) => existsSync(file))!;

const docOf = (checker: ts.TypeChecker, symbol: ts.Symbol) =>
  ts.displayPartsToString(symbol.getDocumentationComment(checker)).replace(/\s+/g, " ").trim();

/**
 * For a setting without a comment of its own, the comment of the schema it is made from: in
 * `image.default("...")` or `names.matrix_host`, that of `image` or `names.matrix_host`.
 */
function docOfSchema(checker: ts.TypeChecker, property: ts.Symbol): string {
  const declaration = property.valueDeclaration;
  if (!declaration || !ts.isPropertyAssignment(declaration)) return "";
  let schema: ts.Expression = declaration.initializer;
  while (ts.isCallExpression(schema) && ts.isPropertyAccessExpression(schema.expression))
    schema = schema.expression.expression;
  let symbol = checker.getSymbolAtLocation(schema);
  if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = checker.getAliasedSymbol(symbol);
  return symbol ? docOf(checker, symbol) : "";
}

/** The doc comment of every property of every object literal given to `z.object(...)` in these files, by file and name. */
function docComments(files: string[]): Map<string, Map<string, string>> {
  const program = ts.createProgram(files, { strict: true, module: ts.ModuleKind.NodeNext, noEmit: true });
  const checker = program.getTypeChecker();
  const byFile = new Map<string, Map<string, string>>();
  for (const file of files) {
    const docs = new Map<string, string>();
    const visit = (node: ts.Node): void => {
      if (
        ts.isCallExpression(node) &&
        ts.isPropertyAccessExpression(node.expression) &&
        node.expression.name.text === "object" &&
        node.expression.expression.getText() === "z" &&
        node.arguments[0]
      )
        for (const property of checker.getPropertiesOfType(checker.getTypeAtLocation(node.arguments[0]))) {
          const text = docOf(checker, property) || docOfSchema(checker, property);
          if (!docs.has(property.name)) docs.set(property.name, text);
        }
      ts.forEachChild(node, visit);
    };
    visit(program.getSourceFile(file)!);
    byFile.set(file, docs);
  }
  return byFile;
}

/** A schema's default as an operator writes it in YAML; `undefined` for a setting with none. */
function defaultOf(schema: z.ZodType): unknown {
  const def = (schema as unknown as { def: { type: string; defaultValue?: unknown; innerType?: z.ZodType } }).def;
  if (def.type === "default") return def.defaultValue;
  if (def.type === "optional" || def.type === "nullable") return def.innerType ? defaultOf(def.innerType) : undefined;
  return undefined;
}

const isOptional = (schema: z.ZodType) => (schema as unknown as { def: { type: string } }).def.type === "optional";

function describeDefault(name: string, schema: z.ZodType, generated: Set<string>): string {
  if (generated.has(name)) return "generated";
  const value = defaultOf(schema);
  if (value === "") return '`""`';
  if (value !== undefined)
    return `\`${typeof value === "string" ? value : JSON.stringify(value).replace(/,/g, ", ")}\``;
  return isOptional(schema) ? "" : "(required)";
}

/** The settings of each role, in the order its schema declares them. */
export async function settingsOf(roles: string[]): Promise<Map<string, Setting[]>> {
  const files = roles.map(schemaFile);
  const docs = docComments(files);
  const settings = new Map<string, Setting[]>();
  for (const [i, roleName] of roles.entries()) {
    const role = ((await import(pathToFileURL(join(ROLES_DIR, roleName, "index.ts")).href)) as { default: Role })
      .default;
    const shape = (role.vars as unknown as z.ZodObject).shape as Record<string, z.ZodType>;
    const generated = new Set(Object.keys(role.secrets ?? {}));
    settings.set(
      roleName,
      Object.entries(shape).map(([name, schema]) => ({
        name,
        default: describeDefault(name, schema, generated),
        meaning: docs.get(files[i]!)!.get(name) ?? "",
      })),
    );
  }
  return settings;
}

const cell = (text: string) => text.replace(/\|/g, "\\|");

export const settingsTable = (settings: Setting[]): string =>
  [
    BEGIN,
    "",
    "| variable | default | meaning |",
    "|---|---|---|",
    ...settings.map((s) => `| \`${s.name}\` | ${cell(s.default)} | ${cell(s.meaning)} |`),
    "",
    END,
  ].join("\n");

/** The README with its settings table replaced (or appended when it has none yet). */
export function withTable(readme: string, table: string): string {
  const begin = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (begin < 0 || end < begin) return `${readme.trimEnd()}\n\n${table}\n`;
  return readme.slice(0, begin) + table + readme.slice(end + END.length);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const roles = documentedRoles();
  for (const [role, settings] of await settingsOf(roles)) {
    const path = join(ROLES_DIR, role, "README.md");
    const readme = readFileSync(path, "utf8");
    const next = withTable(readme, settingsTable(settings));
    if (next !== readme) {
      writeFileSync(path, next);
      console.log(`wrote ${path}`);
    }
  }
}
