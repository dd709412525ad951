/**
 * Stand-in for Element Call's image (AGPL; not built or fetched here): its nginx serves the mounted
 * /app/config.json as the file is, and the app for any other path (`try_files $uri $uri/ /index.html`:
 * the app routes /room/... itself), on port 8080. The app here is a placeholder page.
 */
import { readFileSync } from "node:fs";
import { serve } from "./http.js";

const CONFIG = process.env.ELEMENT_CALL_CONFIG ?? "/app/config.json";
const APP = "<!doctype html><title>Element Call (stand-in)</title>";

serve("element-call", "0.0.0.0", 8080, (_request, url) => {
  if (url.pathname === "/config.json")
    return { status: 200, body: readFileSync(CONFIG, "utf8"), type: "application/json" };
  return { status: 200, body: APP, type: "text/html" };
});
