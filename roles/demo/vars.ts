import { z } from "zod";

export const demoVars = z.object({
  /** The web server's port (on 127.0.0.1). */
  demo_port: z.number().int().min(1024).max(65535).default(8080),
  /** The page's text; the wait checks for it. */
  demo_greeting: z.string().min(1).default("hello from rigger"),
  /** A secret of 32 characters or more, written to /etc/demo/demo.conf (0600). */
  demo_api_token: z.string().min(32, "expected a secret of at least 32 characters"),
  /** net.ipv4.tcp_keepalive_time. */
  demo_keepalive_seconds: z.number().int().positive().default(600),
});
