/**
 * Reachability of ports between test hosts: a listener on one host answers on every port asked
 * for (so a port found closed was closed by the firewall, not for want of a listener), and a
 * prober on another host tries each, TCP and UDP, in parallel.
 */
import type { SshConnection } from "../../src/connection/ssh.js";
import { quote } from "../../src/common/shell.js";

const LISTENER = `
import socket, selectors, sys
sel = selectors.DefaultSelector()
for spec in sys.argv[1:]:
    proto, port = spec.split("/")
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM if proto == "tcp" else socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", int(port)))
    if proto == "tcp":
        s.listen()
    sel.register(s, selectors.EVENT_READ, proto)
while True:
    for key, _ in sel.select():
        if key.data == "tcp":
            conn, _ = key.fileobj.accept()
            conn.sendall(b"ok")
            conn.close()
        else:
            _, peer = key.fileobj.recvfrom(64)
            key.fileobj.sendto(b"ok", peer)
`;

const PROBER = `
import socket, sys, threading
host, results = sys.argv[1], {}
def probe(spec):
    proto, port = spec.split("/")
    try:
        if proto == "tcp":
            s = socket.create_connection((host, int(port)), 1.5)
            ok = s.recv(2) == b"ok"
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(1.5)
            s.sendto(b"ping", (host, int(port)))
            ok = s.recvfrom(64)[0] == b"ok"
        s.close()
    except OSError:
        ok = False
    results[spec] = "open" if ok else "closed"
threads = [threading.Thread(target=probe, args=(spec,)) for spec in sys.argv[2:]]
[t.start() for t in threads]
[t.join() for t in threads]
for spec in sys.argv[2:]:
    print(spec, results[spec])
`;

const UNIT = "rigger-test-listener";

/** Listens on `specs` ("tcp/7881", "udp/50000") on the target, probes them from the prober, stops listening. */
export async function probePorts(
  target: SshConnection,
  targetIp: string,
  prober: SshConnection,
  specs: string[],
): Promise<Record<string, "open" | "closed">> {
  const args = specs.map(quote).join(" ");
  const started = await target.exec(
    `systemctl stop ${UNIT} 2>/dev/null; systemctl reset-failed ${UNIT} 2>/dev/null; systemd-run --quiet --unit ${UNIT} python3 -c ${quote(LISTENER)} ${args} && sleep 0.5 && ` +
      `systemctl is-active --quiet ${UNIT} || { journalctl -u ${UNIT} -n 5 --no-pager >&2; exit 1; }`,
  );
  if (started.code !== 0) throw new Error(`the listener did not start: ${started.stderr}`);
  try {
    const probed = await prober.exec(`python3 -c ${quote(PROBER)} ${targetIp} ${args}`);
    return Object.fromEntries(
      probed.stdout
        .trim()
        .split("\n")
        .map((line) => line.split(" ") as [string, "open" | "closed"]),
    );
  } finally {
    await target.exec(`systemctl stop ${UNIT}`);
  }
}
