/**
 * Stand-in for Element Call's image (AGPL; not built or fetched here): its nginx serves the app and
 * the mounted /app/config.json on port 8080. This serves a placeholder page and the config as it
 * is on disk at each request.
 */
import { readFileSync } from "node:fs";
import { fatal, json, serve } from "./http.js";

const CONFIG = process.env.ELEMENT_CALL_CONFIG ?? "/app/config.json";

const read = () => JSON.parse(readFileSync(CONFIG, "utf8")) as unknown;
try {
  read();
} catch (error) {
  fatal(`${CONFIG}: ${(error as Error).message}`);
}

serve("element-call", "0.0.0.0", 8080, (_request, url) => {
  if (url.pathname === "/config.json") return json(200, read());
  if (url.pathname === "/" || url.pathname === "/index.html") return { status: 200, body: "<!doctype html><title>Element Call (stand-in)</title>", type: "text/html" };
  return { status: 404, body: "not found" };
});
