/**
 * A client of a deployed stack, as Element Call and its users are: requests through Caddy with
 * the names resolved to the proxy host and TLS verified against Caddy's CA, Matrix users, LiveKit
 * tokens from the jwt service, and calls with the real LiveKit client (test/call/call-probe.ts).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { AccessToken, type VideoGrant } from "livekit-server-sdk";
import { $ } from "zx";
import type { SshConnection } from "../../src/connection/ssh.js";
import { openSecretsStore } from "../../src/inventory/load.js";
import type { CallOutcome, Grant } from "../../roles/call_probe/call.js";
import { registrationMac } from "../../roles/call_probe/matrix.js";
import { OUTCOME } from "../call/outcome.js";
import { NAMES } from "./stack.js";

export type { CallOutcome };

export interface MatrixUser {
  user_id: string;
  access_token: string;
  /** What the user logs in with (a browser client does, as Element Call does). */
  password: string;
}

export interface CallRequest {
  publisher: Grant;
  subscriber: Grant;
  frames?: number;
  timeoutMs?: number;
  /** Stay in the call this long after the frames arrived (a call going on during a restart). */
  holdMs?: number;
}

/**
 * Runs a program where the deployment's names resolve to the proxy host (the testbed has no DNS):
 * in a private mount namespace (root) whose /etc/hosts holds them, written into `dir`; or whose
 * /etc/resolv.conf names `nameserver`, a DNS server that answers them.
 */
export function runWithNames(
  dir: string,
  proxyIp: string,
  args: string[],
  options: { input?: string; env?: Record<string, string>; stdio?: "inherit"; nameserver?: string } = {},
) {
  // Hidden: the folder may be an inventory, whose every visible file is read. A browser needs a DNS
  // server (WebRTC looks TURN servers up past /etc/hosts): given one, the names are its alone.
  const [file, content, target] = options.nameserver
    ? [".resolv.conf", `nameserver ${options.nameserver}\n`, "/etc/resolv.conf"]
    : [".etc-hosts", `127.0.0.1 localhost\n${proxyIp} ${Object.values(NAMES).join(" ")}\n`, "/etc/hosts"];
  writeFileSync(join(dir, file), content);
  const mount = `mount --bind ${join(dir, file)} ${target}`;
  const env = { ...process.env, ...options.env };
  return $({
    nothrow: true,
    env,
    ...(options.input === undefined ? {} : { input: options.input }),
    ...(options.stdio ? { stdio: options.stdio } : {}),
  })`unshare --mount sh -c ${`${mount} && exec "$0" "$@"`} ${args}`;
}

/**
 * `ca`: the root that signs the proxy's certificates (a PEM file), when it is not Caddy's own CA
 * (caddy_tls "internal"); `jwtHost`: where the jwt service is served (livekit_host beside an existing homeserver).
 */
export function stackClient(options: {
  inventory: string;
  proxyIp: string;
  homeserver: () => SshConnection;
  ca?: string;
  jwtHost?: string;
}) {
  const { inventory, proxyIp } = options;
  const jwtHost = options.jwtHost ?? NAMES.matrix_host;
  /** The inventory's secrets store, decrypted as a run decrypts it. */
  const secrets = async () => {
    const store = await openSecretsStore(inventory);
    return Object.fromEntries(store.names().map((name) => [name, String(store.get(name))]));
  };
  const onHomeserver = async (command: string) => (await options.homeserver().exec(command)).stdout;

  // Caddy's CA (it does not change while the stack stands), as a file on the controller, read once:
  // the promise is kept, so requests made at once all wait for the file to be written.
  let caFile: Promise<string> | undefined;
  const caddyCa = () =>
    (caFile ??= options.ca
      ? Promise.resolve(options.ca)
      : options
          .homeserver()
          .exec("cat /var/lib/caddy/.local/share/caddy/pki/authorities/local/root.crt")
          .then((read) => {
            const file = join(inventory, "caddy-root.crt");
            writeFileSync(file, read.stdout);
            return file;
          }));

  /** A request through Caddy from the controller, as a client on the Internet makes it. */
  const throughCaddy = async (name: string, path: string, ...extra: string[]) =>
    $({
      nothrow: true,
    })`curl -sS --max-time 15 --resolve ${`${name}:443:${proxyIp}`} --cacert ${await caddyCa()} ${extra} ${`https://${name}${path}`}`;

  /** The same, JSON in and out. */
  const https = async (
    name: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
    method?: string,
  ) => {
    const json = [
      ...(method ? ["-X", method] : []),
      "-H",
      "content-type: application/json",
      ...Object.entries(headers).flatMap(([k, v]) => ["-H", `${k}: ${v}`]),
    ];
    const result = await throughCaddy(
      name,
      path,
      ...json,
      "-w",
      "\n%{http_code}",
      ...(body === undefined ? [] : ["--data", JSON.stringify(body)]),
    );
    const [text = "", status] = [
      result.stdout.slice(0, result.stdout.lastIndexOf("\n")),
      result.stdout.slice(result.stdout.lastIndexOf("\n") + 1),
    ];
    try {
      return JSON.parse(text) as Record<string, any>;
    } catch {
      throw new Error(`https://${name}${path} answered ${status} without JSON: ${text.slice(0, 200)} ${result.stderr}`);
    }
  };

  /** A user of the homeserver, registered with the shared secret on its host (the admin API is not routed by Caddy). */
  const register = async (username: string): Promise<MatrixUser> => {
    const nonce = JSON.parse(await onHomeserver("curl -s http://127.0.0.1:8008/_synapse/admin/v1/register"))
      .nonce as string;
    const password = `${username}-password-0123456789`;
    const mac = registrationMac((await secrets()).synapse_registration_shared_secret!, nonce, username, password);
    const registered = JSON.parse(
      await onHomeserver(
        `curl -s -X POST -d '${JSON.stringify({ nonce, username, password, admin: false, mac })}' http://127.0.0.1:8008/_synapse/admin/v1/register`,
      ),
    ) as Omit<MatrixUser, "password">;
    return { ...registered, password };
  };

  /** What Element Call does first: an OpenID token from the homeserver. */
  const openidToken = (user: MatrixUser) =>
    https(
      NAMES.matrix_host,
      `/_matrix/client/v3/user/${encodeURIComponent(user.user_id)}/openid/request_token`,
      {},
      { authorization: `Bearer ${user.access_token}` },
    );

  /** Then: the OpenID token exchanged at the jwt service for a LiveKit URL and a token for the room (Element Call's `compatibility` mode, /sfu/get). */
  const grant = async (user: MatrixUser, room: string, device = "DEVICE") =>
    (await https(jwtHost, "/_livekit/sfu/get", {
      room,
      openid_token: await openidToken(user),
      device_id: device,
    })) as Grant & Record<string, any>;

  /** The same in `matrix_2_0` mode (/get_token): the MatrixRTC slot and member, and optionally a delayed leave to keep alive. */
  const grantToken = async (
    user: MatrixUser,
    room: string,
    member: { id: string; device: string },
    delay?: { delay_id: string; delay_timeout: number },
  ) =>
    (await https(jwtHost, "/_livekit/get_token", {
      room_id: room,
      slot_id: "m.call#ROOM",
      openid_token: await openidToken(user),
      member: { id: member.id, claimed_user_id: user.user_id, claimed_device_id: member.device },
      ...(delay ? { ...delay, delay_cs_api_url: `https://${NAMES.matrix_host}` } : {}),
    })) as Grant & Record<string, any>;

  /** A client-server API request as the user, through Caddy. */
  const matrix = (user: MatrixUser, method: string, path: string, body?: unknown) =>
    https(NAMES.matrix_host, path, body, { authorization: `Bearer ${user.access_token}` }, method);

  /** Two new users of the homeserver, each granted a LiveKit token for the room: a call's publisher and subscriber. */
  const twoUsersIn = async (room: string): Promise<[Grant, Grant]> => {
    const stamp = Date.now();
    const [publisher, subscriber] = await Promise.all(
      ["p", "s"].map(async (who) => grant(await register(`${who}${stamp}`), room)),
    );
    return [publisher!, subscriber!];
  };

  /** LiveKit's own API through Caddy, with an admin token of ours (Twirp: ListRooms, CreateRoom, ListParticipants). */
  const livekitApi = async (method: string, body: unknown, videoGrant: VideoGrant) => {
    const { livekit_api_key, livekit_api_secret } = await secrets();
    const token = new AccessToken(livekit_api_key!, livekit_api_secret!, { identity: "rigger-test" });
    token.addGrant(videoGrant);
    return https(NAMES.livekit_host, `/twirp/livekit.RoomService/${method}`, body, {
      authorization: `Bearer ${await token.toJwt()}`,
    });
  };

  /**
   * A program run where the controller knows the deployment's names (the testbed has no DNS): in a
   * private mount namespace whose /etc/hosts holds them, trusting Caddy's CA.
   */
  const withNames = async (args: string[], options: { input?: string; nameserver?: string } = {}) =>
    runWithNames(inventory, proxyIp, args, {
      ...options,
      env: { SSL_CERT_FILE: await caddyCa(), NODE_EXTRA_CA_CERTS: await caddyCa() },
    });

  /** A two-party call with the real LiveKit client (the call probe of roles/call_probe). */
  const call = async (request: CallRequest): Promise<CallOutcome> => {
    const input = JSON.stringify({
      publisher: request.publisher,
      subscriber: request.subscriber,
      frames: request.frames ?? 50,
      timeoutMs: request.timeoutMs ?? 20_000,
      holdMs: request.holdMs ?? 0,
    });
    const probe = await withNames(["node_modules/.bin/tsx", "test/call/call-probe.ts"], { input });
    const line = probe.stdout.split("\n").find((l) => l.startsWith(`${OUTCOME} `));
    return line
      ? (JSON.parse(line.slice(OUTCOME.length + 1)) as CallOutcome)
      : { ok: false, error: `the probe printed no outcome: ${probe.stderr.trim().split("\n").at(-1)}` };
  };

  /** A participant that joins with the grant and stays until killed (a client that crashes): `joined` once it is in. */
  const hold = async (grant: Grant) => {
    const ca = await caddyCa();
    const process = runWithNames(inventory, proxyIp, ["node", "--import", "tsx", "test/call/hold.ts"], {
      input: JSON.stringify(grant),
      env: { SSL_CERT_FILE: ca, NODE_EXTRA_CA_CERTS: ca },
    });
    const joined = new Promise<void>((resolve, reject) => {
      process.stdout.on("data", (chunk: Buffer) => chunk.toString().includes("JOINED") && resolve());
      void process.then((out) => reject(new Error(`the participant ended before joining: ${out.stderr}`)));
    });
    return { joined, kill: () => process.kill("SIGKILL") };
  };

  return {
    secrets,
    caddyCa,
    throughCaddy,
    https,
    register,
    openidToken,
    grant,
    grantToken,
    matrix,
    twoUsersIn,
    livekitApi,
    withNames,
    call,
    hold,
  };
}
