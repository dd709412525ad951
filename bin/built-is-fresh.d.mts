/** Whether dist/ was built from the sources as they are: every file checked, or only src/'s folders. */
export function builtIsFresh(options?: { everyFile?: boolean }): boolean;
