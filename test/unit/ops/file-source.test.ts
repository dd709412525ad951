import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { file } from "../../../src/ops/files.js";
import type { WriteStep } from "../../../src/ops/operation.js";

const absent = { current: { exists: false } };
const written = (path: string, source: string) => (file({ path, source }).plan(absent) as WriteStep[])[0]!.content;

it("reads a controller file once for every host of a run, and anew once it changed", () => {
  const source = join(mkdtempSync(join(tmpdir(), "rigger-source-")), "blob.bin");
  writeFileSync(source, "first version\n");
  // One operation per host, as a role builds them: the same bytes, read once.
  const contents = Array.from({ length: 100 }, (_, i) => written(`/etc/h${i}.bin`, source));
  expect(new Set(contents).size).toBe(1);
  expect(String(contents[0])).toBe("first version\n");
  writeFileSync(source, "the second, longer version\n");
  expect(String(written("/etc/h0.bin", source))).toBe("the second, longer version\n");
});
