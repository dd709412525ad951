import { z } from "zod";

export const demoVars = z.object({
  demo_port: z.number().int().min(1024).max(65535).default(8080),
  demo_greeting: z.string().min(1).default("hello from rigger"),
  demo_api_token: z.string().min(32, "expected a secret of at least 32 characters"),
  demo_keepalive_seconds: z.number().int().positive().default(600),
});
