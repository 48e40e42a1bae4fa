// The dashboard lives at `/`. For now a landing page that says where the
// API and its document are; the live dashboard is its own piece of work.
import { Hono } from "hono";
import type { AppEnv } from "../api/context";

export const dashboard = new Hono<AppEnv>();

dashboard.get("/", (c) =>
  c.html(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Squall</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:40rem;margin:3rem auto;padding:0 1rem;color:#1f2937}code{background:#f3f4f6;padding:.1rem .3rem;border-radius:4px}</style>
</head><body>
<h1>Squall</h1>
<p>The platform is running. Deploy with <code>npx squall deploy app.ts</code>; call functions with the <code>squall</code> SDK.</p>
<ul><li>API: <code>/v1</code></li><li>API document: <a href="/v1/openapi.json">/v1/openapi.json</a></li><li>Health: <a href="/v1/health">/v1/health</a></li></ul>
</body></html>`),
);
