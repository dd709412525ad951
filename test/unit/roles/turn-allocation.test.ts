import { expect, it } from "vitest";
import { ATTR, encode, longTermKey } from "../../../roles/coturn/turn-allocation.js";

/** Hex as RFC 5769 prints it, spaces and line breaks ignored. */
const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ""), "hex");

it("signs a request as RFC 5769's sample with long-term authentication (2.4), byte for byte", () => {
  // The sample's user "マトリックス" and password "The<U+00AD>M<U+00AA>tr<U+2167>", SASLprep'ed to "TheMatrIX".
  const username = "\u30DE\u30C8\u30EA\u30C3\u30AF\u30B9";
  const key = longTermKey(username, "example.org", "TheMatrIX");
  const binding = 0x0001;
  const message = encode(
    binding,
    hex("78ad3433 c6ad72c0 29da412e"),
    [
      [ATTR.username, Buffer.from(username, "utf8")],
      [ATTR.nonce, Buffer.from("f//499k954d6OL34oL9FSTvy64sA")],
      [ATTR.realm, Buffer.from("example.org")],
    ],
    key,
  );
  expect(message.toString("hex")).toBe(
    hex(`
      00010060 2112a442 78ad3433 c6ad72c0 29da412e
      00060012 e3839ee3 8388e383 aae38383 e382afe3 82b90000
      0015001c 662f2f34 39396b39 35346436 4f4c3334 6f4c3946 53547679 36347341
      0014000b 6578616d 706c652e 6f726700
      00080014 f6702465 6dd64a3e 02b8e071 2e85c9a2 8ca89666
    `).toString("hex"),
  );
});
