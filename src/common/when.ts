/** An optional task, port or check in a role's list: made, and listed, only when the condition holds (`...when(vars.x, () => op)`). */
export const when = <T>(condition: unknown, make: () => T): T[] => (condition ? [make()] : []);
