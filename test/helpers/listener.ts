/** A TCP listener on 127.0.0.1 that counts connection attempts: proof that a run touched no host. */
import { createServer } from "node:net";

export interface CountingListener {
  port: number;
  connects(): number;
  close(): void;
}

export async function countingListener(): Promise<CountingListener> {
  let count = 0;
  const server = createServer((socket) => {
    count++;
    socket.destroy();
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { port: (server.address() as { port: number }).port, connects: () => count, close: () => server.close() };
}
