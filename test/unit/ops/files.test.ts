import { createHash } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect, it } from "vitest";
import { file, upload } from "../../../src/ops/files.js";

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

it("uploads a large source by reference (its sha256 and size read in chunks, never its content held), and only when it differs", () => {
  const bytes = Buffer.alloc(3 * (1 << 20) + 17, 7); // more than one chunk
  const source = join(mkdtempSync(join(tmpdir(), "rigger-upload-")), "archive.tar.gz");
  writeFileSync(source, bytes);
  const op = upload({ path: "/var/backups/archive.tar.gz", source, mode: 0o600 });
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  expect(op.plan({ current: { exists: false } })).toEqual([
    {
      kind: "upload",
      source,
      path: "/var/backups/archive.tar.gz",
      sha256,
      size: bytes.length,
      mode: 0o600,
      owner: "root",
      group: "root",
    },
  ]);
  const present = { exists: true, type: "file", mode: 0o600, owner: "root", group: "root", uid: "0", gid: "0" };
  expect(op.plan({ current: { ...present, sha256 } })).toEqual([]);
  expect(op.plan({ current: { ...present, sha256, mode: 0o644 } })).toEqual([
    { kind: "run", command: "chmod 0600 /var/backups/archive.tar.gz" },
  ]);
});
