/**
 * How ES modules are imported at run time (an operator's playbook, a library loaded only when
 * needed). The built engine runs as a compiled script, which cannot `import()`: its loader hands it one.
 */
let importer = (specifier: string): Promise<unknown> => import(specifier);

export function useImporter(given: typeof importer): void {
  importer = given;
}

export const importModule = (specifier: string): Promise<unknown> => importer(specifier);
