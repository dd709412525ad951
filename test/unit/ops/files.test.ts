import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { file } from "../../../src/ops/files.js";

it("takes a source file as bytes: a binary is written exactly, and is unchanged once it is there", () => {
  const bytes = Buffer.from([0, 255, 254, 0x80, 0x0a, 0xc3, 0x28, 1]); // not UTF-8
  const source = join(mkdtempSync(join(tmpdir(), "rigger-bin-")), "blob.bin");
  writeFileSync(source, bytes);
  const op = file({ path: "/opt/blob.bin", source });
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const present = { exists: true, type: "file", mode: 0o644, owner: "root", group: "root", uid: "0", gid: "0" };
  expect(op.plan({ current: { ...present, sha256 } })).toEqual([]);
  const [write] = op.plan({ current: { ...present, sha256: "0".repeat(64) } });
  expect(write).toMatchObject({ kind: "write", path: "/opt/blob.bin" });
  expect(Buffer.compare((write as { content: Buffer }).content, bytes)).toBe(0);
});
