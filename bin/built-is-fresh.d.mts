/** Whether dist/ was built from the sources as they are (no file under src/ newer than the build). */
export function builtIsFresh(root?: URL): boolean;
