/** Shorter secrets cannot be masked in output without masking ordinary words: a run refuses them. */
export const SECRET_MIN_LENGTH = 4;
