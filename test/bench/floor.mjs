// The floor of a no-change run: Node starts, ssh2 connects to each host, one exec each, in parallel.
// usage: node floor.mjs KEYFILE HOST [HOST...]
import { readFileSync } from "node:fs";
import ssh2 from "ssh2";

const [keyFile, ...hosts] = process.argv.slice(2);
const privateKey = readFileSync(keyFile);
await Promise.all(
  hosts.map(
    (host) =>
      new Promise((resolve, reject) => {
        const client = new ssh2.Client();
        client.on("error", reject).on("ready", () =>
          client.exec("true", (error, channel) => {
            if (error) return reject(error);
            channel.on("close", () => (client.end(), resolve())).resume();
          }),
        );
        client.connect({ host, username: "root", privateKey, hostVerifier: () => true });
      }),
  ),
);
