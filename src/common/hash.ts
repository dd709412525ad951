import { createHash } from "node:crypto";

/** The SHA-256 of text or bytes, in hex: what `sha256sum` prints on a host. */
export const sha256Hex = (content: string | Buffer) => createHash("sha256").update(content).digest("hex");
