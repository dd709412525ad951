import { expect, it } from "vitest";
import { nftablesRuleset } from "../../../src/ops/nftables.js";

it("opens a port to its sources only, in the input chain and for the Docker-published port it forwards", () => {
  const ruleset = nftablesRuleset("rigger", [
    { protocol: "tcp", port: 6379, sources: ["203.0.113.21", "2001:db8::21", "10.0.0.0/8"], comment: "redis" },
    { protocol: "udp", port: 7882 },
  ]);
  const lines = ruleset.split("\n").map((l) => l.trim());
  expect(lines).toContain('ip saddr { 203.0.113.21, 10.0.0.0/8 } tcp dport 6379 accept comment "redis"');
  expect(lines).toContain('ip6 saddr { 2001:db8::21 } tcp dport 6379 accept comment "redis"');
  expect(lines).toContain("udp dport 7882 accept");
  // Forwarded (published) traffic to 6379: the sources accepted, everyone else dropped, replies untouched.
  expect(lines).toContain("type filter hook forward priority filter - 1; policy accept;");
  const match = "ct direction original ct status dnat meta l4proto tcp ct original proto-dst 6379";
  expect(lines).toContain(`${match} ip saddr { 203.0.113.21, 10.0.0.0/8 } accept comment "redis"`);
  expect(lines.at(lines.indexOf(`${match} drop comment "redis"`) - 1)).toBe(
    `${match} ip6 saddr { 2001:db8::21 } accept comment "redis"`,
  );
});

it("has no forward chain when every port is open to everyone", () => {
  expect(nftablesRuleset("rigger", [{ protocol: "udp", port: 7882 }])).not.toContain("hook forward");
});
