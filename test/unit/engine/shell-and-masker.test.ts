import { expect, it } from "vitest";
import { Masker, MASK } from "../../../src/engine/masker.js";
import { quote, raw, sh } from "../../../src/engine/shell.js";
import { lineDiff } from "../../../src/engine/diff.js";

it("quotes every interpolated word for a POSIX shell", () => {
  expect(quote("plain-word_1.2/x")).toBe("plain-word_1.2/x");
  expect(quote("it's $HOME; rm -rf /")).toBe(`'it'\\''s $HOME; rm -rf /'`);
  expect(quote("")).toBe("''");
  expect(sh`install ${["a b", "c"]} ${raw("2>&1")} ${7}`).toBe("install 'a b' c 2>&1 7");
});

it("masks every occurrence of every secret, longest first, deep in reports", () => {
  const masker = new Masker();
  masker.add("s3cret-value");
  masker.add("s3cret-value-longer");
  masker.add("abc"); // too short to mask safely
  expect(masker.mask("a=s3cret-value-longer b=s3cret-value abc")).toBe(`a=${MASK} b=${MASK} abc`);
  expect(masker.maskDeep({ list: ['x "s3cret-value"'], n: 1 })).toEqual({ list: [`x "${MASK}"`], n: 1 });
});

it("diffs line by line, naming only what differs", () => {
  expect(lineDiff("a\nb\nc\n", "a\nB\nc\nd\n", "/f")).toBe("--- /f (on the host)\n+++ /f (wanted)\n-b\n+B\n+d");
});
