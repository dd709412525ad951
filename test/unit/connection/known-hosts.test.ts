import { expect, it } from "vitest";
import {
  fingerprint,
  keyTypeOf,
  keysForHost,
  knownHostsLine,
  parseKnownHosts,
} from "../../../src/connection/known-hosts.js";

// A fixture key with the fingerprint `ssh-keygen -lf` printed for it, and two lines that
// `ssh-keygen -H` hashed: one for [example.org]:2222, one for sfu01.example.org.
const KEY = "AAAAC3NzaC1lZDI1NTE5AAAAIPZnn4jYX+H9Yu3iZUGTFQIrloOafvRRaG/6XTv8CPL8";
const KEY_FINGERPRINT = "SHA256:5+zDrTkzH8NezCb1i6WCFBeUQ6WfjtmsUDMXadIgdiU";
const HASHED = [
  `|1|wkrBak+e69LHOJcflYcfn2rFcBE=|0tHI9z7j4VlvtyboXi5yNBal7iM= ssh-ed25519 ${KEY}`,
  `|1|02NZs0TFZux3VnMfaBuXfi/Q7D4=|VhO3g+NqBO1p9E+PRGXIr6s5hfQ= ssh-ed25519 ${KEY}`,
].join("\n");
const OTHER = "AAAAC3NzaC1lZDI1NTE5AAAAIDQD+Xbow/W5QiUz7vR41z004E6jYhmMB+CSvJQarwDc";

it("computes OpenSSH's SHA256 fingerprint and reads the key type from the blob", () => {
  const key = Buffer.from(KEY, "base64");
  expect(fingerprint(key)).toBe(KEY_FINGERPRINT);
  expect(keyTypeOf(key)).toBe("ssh-ed25519");
});

it("matches hashed entries written by ssh-keygen -H, port included", () => {
  const entries = parseKnownHosts(HASHED);
  expect(keysForHost(entries, "sfu01.example.org", 22)).toHaveLength(1);
  expect(keysForHost(entries, "example.org", 2222)).toHaveLength(1);
  expect(keysForHost(entries, "example.org", 22)).toHaveLength(0);
  expect(keysForHost(entries, "sfu02.example.org", 22)).toHaveLength(0);
});

it("matches plain names, bracketed ports, comma lists and globs, and honours negation", () => {
  const entries = parseKnownHosts(
    [
      "# a comment",
      "",
      `@cert-authority *.example.org ssh-ed25519 ${OTHER}`,
      `sfu01,10.0.0.5 ssh-ed25519 ${KEY}`,
      `[10.0.0.6]:2200 ssh-ed25519 ${KEY}`,
      `*.media.example.org,!bad.media.example.org ssh-ed25519 ${OTHER}`,
    ].join("\n"),
  );
  // The authority is read as one, never as a plain key of the hosts it names.
  expect(entries).toHaveLength(4);
  expect(keysForHost(entries, "sfu.example.org", 22)).toHaveLength(0);
  expect(keysForHost(entries, "sfu.example.org", 22, "cert-authority")).toHaveLength(1);
  expect(keysForHost(entries, "10.0.0.5", 22)[0]?.key.toString("base64")).toBe(KEY);
  expect(keysForHost(entries, "10.0.0.6", 2200)).toHaveLength(1);
  expect(keysForHost(entries, "10.0.0.6", 22)).toHaveLength(0);
  expect(keysForHost(entries, "10x0.0.5", 22)).toHaveLength(0);
  expect(keysForHost(entries, "a.media.example.org", 22)).toHaveLength(1);
  expect(keysForHost(entries, "bad.media.example.org", 22)).toHaveLength(0);
});

it("writes hashed lines that it reads back, for that host and port only", () => {
  const key = Buffer.from(KEY, "base64");
  const line = knownHostsLine("10.0.0.7", 2222, key, Buffer.alloc(20, 7));
  expect(line).toMatch(/^\|1\|[^ ]+\|[^ ]+ ssh-ed25519 /);
  expect(line).not.toContain("10.0.0.7");
  const entries = parseKnownHosts(line);
  expect(keysForHost(entries, "10.0.0.7", 2222)).toHaveLength(1);
  expect(keysForHost(entries, "10.0.0.7", 22)).toHaveLength(0);
});

it("reads a @revoked key as revoked for every host it names, and as no plain key", () => {
  const entries = parseKnownHosts(
    `@revoked * ssh-ed25519 ${KEY}\n10.0.0.5 ssh-ed25519 ${KEY}\n@future-marker 10.0.0.5 ssh-ed25519 ${OTHER}`,
  );
  expect(keysForHost(entries, "10.0.0.5", 22, "revoked").map((e) => e.key.toString("base64"))).toEqual([KEY]);
  expect(keysForHost(entries, "any.example.org", 2222, "revoked")).toHaveLength(1);
  expect(keysForHost(entries, "10.0.0.5", 22)).toHaveLength(1);
});
