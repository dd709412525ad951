/** A file mode as chmod and people write it: 0600, 0755. */
export const octalMode = (mode: number) => mode.toString(8).padStart(4, "0");
