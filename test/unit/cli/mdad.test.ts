/** An inventory in matrix-docker-ansible-deploy's (MDAD's) own example layout, run with site.ts as it is. */
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { loadInventory } from "../../../src/inventory/load.js";
import { withMdadNames } from "../../../src/inventory/mdad.js";
import { countingListener, type CountingListener } from "../../helpers/listener.js";
import { rigger } from "../../helpers/rigger.js";

let listener: CountingListener;
beforeAll(async () => (listener = await countingListener()));
afterAll(() => listener.close());

/** MDAD's examples/hosts and examples/vars.yml, filled in as its docs say (the host named matrix.DOMAIN). */
function mdadInventory(vars: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), "rigger-mdad-"));
  writeFileSync(
    join(dir, "hosts"),
    `[matrix_servers]\nmatrix.example.com ansible_host=203.0.113.10 ansible_ssh_user=deploy ansible_become=true ansible_become_user=root ansible_port=${listener.port}\n`,
  );
  mkdirSync(join(dir, "host_vars", "matrix.example.com"), { recursive: true });
  writeFileSync(
    join(dir, "host_vars", "matrix.example.com", "vars.yml"),
    Object.entries({
      matrix_domain: "example.com",
      matrix_homeserver_implementation: "synapse",
      matrix_homeserver_generic_secret_key: "'x8Vt2mQpL0aZr7YkN4bWc1Hs9Jd3Fe6U'",
      matrix_playbook_reverse_proxy_type: "playbook-managed-traefik",
      postgres_connection_password: "''",
      matrix_element_call_enabled: "true",
      ...vars,
    })
      .map(([key, value]) => `${key}: ${value}`)
      .join("\n"),
  );
  return dir;
}

it("runs site.ts on MDAD's example inventory as it is: matrix_servers is the one host of everything, MDAD's names and defaults read", async () => {
  const before = listener.connects();
  const inventory = join(mdadInventory(), "hosts");
  const syntax = await rigger("playbooks/site.ts", "-i", inventory, "--syntax-check");
  expect(syntax, syntax.err).toMatchObject({
    code: 0,
    out: "playbook: playbooks/site.ts (11 plays, 1 hosts): syntax ok",
  });
  const hosts = await rigger("playbooks/site.ts", "-i", inventory, "--list-hosts");
  expect(hosts.out).toContain('play "proxy" (1 hosts):\n  matrix.example.com');
  expect(hosts.out).toContain('play "turn" (1 hosts):\n  matrix.example.com');
  // What the generic secret seeds in MDAD, rigger generates one by one: said, never silently dropped.
  expect(syntax.err).toContain(
    `MDAD's variables that rigger has no equivalent for, not read: matrix_homeserver_generic_secret_key, postgres_connection_password (README: "Coming from matrix-docker-ansible-deploy")`,
  );
  expect(listener.connects()).toBe(before);
  // The names MDAD derives from matrix_domain and ansible_host are the ones the stack is built for.
  const host = loadInventory(inventory).hosts.get("matrix.example.com")!;
  const vars = join(inventory, "..", "host_vars", "matrix.example.com", "vars.yml");
  expect(withMdadNames(host, inventory)).toMatchObject({
    vars: {
      matrix_server_name: "example.com",
      matrix_host: "matrix.example.com",
      element_call_host: "call.element.example.com",
      livekit_host: "livekit.example.com",
      public_ip: "203.0.113.10",
      proxy: "caddy",
      element_call_enabled: true,
    },
    origins: { matrix_server_name: vars, matrix_host: vars, public_ip: inventory },
  });
});

it("takes MDAD's install-and-start tags as a whole run, points self-check at verify.ts, and refuses what rigger cannot honour", async () => {
  const inventory = join(mdadInventory(), "hosts");
  const all = await rigger("playbooks/site.ts", "-i", inventory, "--list-tasks");
  const setup = await rigger("playbooks/site.ts", "-i", inventory, "--list-tasks", "--tags=setup-all,start");
  expect(setup.out).toBe(all.out);
  const check = await rigger("playbooks/site.ts", "-i", inventory, "--tags=self-check");
  expect(check.code).toBe(1);
  expect(check.err).toContain("-t self-check: MDAD's self-check is rigger's verify.ts");

  const conduit = await rigger(
    "playbooks/site.ts",
    "-i",
    join(mdadInventory({ matrix_homeserver_implementation: "conduwuit" }), "hosts"),
    "--syntax-check",
  );
  expect(conduit.err).toMatch(
    /vars\.yml: matrix_homeserver_implementation: MDAD's name for rigger's homeserver: rigger deploys Synapse; beside the conduwuit you already run, set homeserver: existing/,
  );
  const twice = await rigger(
    "playbooks/site.ts",
    "-i",
    join(mdadInventory({ matrix_server_name: "other.example" }), "hosts"),
    "--syntax-check",
  );
  expect(twice.err).toMatch(
    /vars\.yml: matrix_domain: MDAD's name for rigger's matrix_server_name, which \S+vars\.yml sets to another value: keep one of them/,
  );
});

it("reads MDAD's extension YAML as rigger's escape hatch, and its own webserver as proxy: own", async () => {
  const dir = mdadInventory({
    matrix_synapse_configuration_extension_yaml: "|\n  rc_message:\n    per_second: 2",
    matrix_playbook_reverse_proxy_type: "none",
  });
  const own = await rigger("playbooks/site.ts", "-i", join(dir, "hosts"), "--list-tasks");
  expect(own.code, own.err).toBe(0);
  expect(own.out).toContain('play "own proxy":\n  own_proxy');
  expect((await rigger("playbooks/site.ts", "-i", join(mdadInventory(), "hosts"), "--list-tasks")).out).not.toContain(
    "own_proxy",
  );
  const host = loadInventory(join(dir, "hosts")).hosts.get("matrix.example.com")!;
  expect(withMdadNames(host, dir).vars.synapse_config_extra).toEqual({ rc_message: { per_second: 2 } });
});

it("names the groups a playbook wants when no host of the inventory is in one", async () => {
  const result = await rigger("playbooks/site.ts", "-i", "127.0.0.1,", "--syntax-check");
  expect(result.code).toBe(1);
  expect(result.err).toContain(
    "its plays run on the groups matrixrtc, matrix_servers, proxy, redis, sfu, homeserver, turn, prometheus; the inventory has ungrouped",
  );
});
