/** What the stand-ins share: JSON answers, bodies, Matrix-style errors, and a readable log line per request. */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

export type Handler = (request: IncomingMessage, url: URL, body: string) => Promise<Answer> | Answer;
export interface Answer {
  status: number;
  body?: unknown;
  type?: string;
  headers?: Record<string, string>;
}

export const json = (status: number, body: unknown): Answer => ({ status, body });
export const matrixError = (
  status: number,
  errcode: string,
  error: string,
  extra: Record<string, unknown> = {},
): Answer => ({ status, body: { errcode, error, ...extra } });

export function serve(name: string, host: string, port: number, handle: Handler): Server {
  const server = createServer((request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on("data", (c: Buffer) => chunks.push(c));
    request.on("end", async () => {
      const url = new URL(request.url ?? "/", "http://stand-in");
      let answer: Answer;
      try {
        answer = await handle(request, url, Buffer.concat(chunks).toString("utf8"));
      } catch (error) {
        answer = matrixError(500, "M_UNKNOWN", (error as Error).message);
      }
      const text =
        answer.body === undefined ? "" : typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body);
      const type = answer.type ?? (typeof answer.body === "string" ? "text/plain" : "application/json");
      response.writeHead(answer.status, { "content-type": type, ...answer.headers });
      response.end(text);
      console.log(`${name}: ${request.method} ${url.pathname} -> ${answer.status}`);
    });
  });
  server.listen(port, host, () => console.log(`${name}: listening on ${host}:${port}`));
  return server;
}

/** Stops the process with a message, as a real service does on a configuration it cannot use. */
export function fatal(message: string): never {
  console.error(`fatal: ${message}`);
  process.exit(1);
}
