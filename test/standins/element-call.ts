/**
 * Stand-in for Element Call's image (AGPL; not built or fetched here): its nginx serves the app and
 * the mounted /app/config.json on port 8080. This serves a placeholder page and the config as it
 * is on disk at each request.
 */
import { readFileSync } from "node:fs";
import { fatal, serve } from "./http.js";

const CONFIG = process.env.ELEMENT_CALL_CONFIG ?? "/app/config.json";

const read = () => JSON.parse(readFileSync(CONFIG, "utf8")) as unknown;
try {
  read();
} catch (error) {
  fatal(`${CONFIG}: ${(error as Error).message}`);
}

serve("element-call", "0.0.0.0", 8080, (_request, url) => {
  // As nginx does: the file's bytes (parsed first, so a broken config is a 500, as the app would fail).
  if (url.pathname === "/config.json") return (read(), { status: 200, body: readFileSync(CONFIG, "utf8"), type: "application/json" });
  if (url.pathname === "/" || url.pathname === "/index.html") return { status: 200, body: "<!doctype html><title>Element Call (stand-in)</title>", type: "text/html" };
  return { status: 404, body: "not found" };
});
