/**
 * Every operation's decisions, one fixture file per case (cases/*.yaml): the operation's arguments,
 * the facts as a host would report them, and the exact steps (or the error) expected.
 */
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readYaml } from "../../../src/inventory/yaml-file.js";
import { apt } from "../../../src/ops/apt.js";
import { command } from "../../../src/ops/command.js";
import { dockerContainer, dockerContainerAbsent, dockerImage, dockerNetwork } from "../../../src/ops/docker.js";
import { absent, directory, file } from "../../../src/ops/files.js";
import type { Operation } from "../../../src/ops/operation.js";
import { nftablesFirewall } from "../../../src/ops/nftables.js";
import { sysctl } from "../../../src/ops/sysctl.js";
import { ufwFirewall } from "../../../src/ops/ufw.js";
import { service, unitFile } from "../../../src/ops/systemd.js";

interface Case {
  op: keyof typeof factories;
  args: Record<string, unknown>;
  facts: Record<string, unknown>;
  fact_keys?: string[];
  steps?: unknown[];
  warnings?: string[];
  error?: string;
}

const factories = {
  file,
  directory,
  absent,
  apt,
  service,
  unitFile,
  sysctl,
  command,
  dockerNetwork,
  dockerImage,
  dockerContainer,
  nftablesFirewall,
  ufwFirewall,
  dockerContainerAbsent: (args: { name: string }) => dockerContainerAbsent(args.name),
} as unknown as Record<string, (args: unknown) => Operation>;

const dir = join(import.meta.dirname, "cases");

describe("operation plans", () => {
  for (const name of readdirSync(dir)
    .filter((f) => f.endsWith(".yaml"))
    .sort()) {
    it(name.replace(/\.yaml$/, ""), () => {
      const fixture = readYaml(join(dir, name)) as Case;
      const build = () => factories[fixture.op]!(fixture.args);
      if (fixture.error) return void expect(() => build().plan(fixture.facts)).toThrow(fixture.error);
      const op = build();
      if (fixture.fact_keys) expect(Object.values(op.facts).map((f) => f.key)).toEqual(fixture.fact_keys);
      expect(Object.keys(op.facts).sort()).toEqual(Object.keys(fixture.facts).sort());
      expect(op.plan(fixture.facts)).toEqual(fixture.steps);
      expect(op.warnings?.(fixture.facts) ?? []).toEqual(fixture.warnings ?? []);
    });
  }
});
