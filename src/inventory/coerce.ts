import type { z } from "zod";

/**
 * A key=value string read as the field expects it, as Ansible's templating does: a number, a
 * boolean (true/false, yes/no, on/off), or JSON (a list); the string itself when the field takes
 * it or nothing else fits (its error then names the string).
 */
export function coerceLoose(field: z.ZodType | undefined, value: string): unknown {
  if (!field || field.safeParse(value).success) return value;
  const candidates: unknown[] = [];
  if (/^-?\d+(\.\d+)?$/.test(value)) candidates.push(Number(value));
  if (/^(true|yes|on)$/i.test(value)) candidates.push(true);
  if (/^(false|no|off)$/i.test(value)) candidates.push(false);
  if (/^[[{]/.test(value))
    try {
      candidates.push(JSON.parse(value));
    } catch {
      // not JSON: the string stays
    }
  return candidates.find((c) => field.safeParse(c).success) ?? value;
}
