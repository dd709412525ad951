import { defineFact, type Fact } from "./fact.js";

/** The IP addresses assigned to the host's interfaces (`ip -o addr`), without their prefix lengths. */
export const addressesFact: Fact<string[]> = defineFact("addresses", "ip -o addr show 2>&1", (stdout, code) => {
  if (code !== 0) throw new Error(`the host's addresses could not be read (ip -o addr): ${stdout.trim()}`);
  return [...stdout.matchAll(/\binet6? ([0-9a-f.:]+)\//gi)].map((match) => match[1]!.toLowerCase());
});
