// The page script and stylesheet, served from the Worker itself.
import { Hono } from "hono";
import type { AppEnv } from "../app-env";
import { SCRIPT } from "./script";
import { STYLE } from "./style";

export const SCRIPT_PATH = "/dashboard/assets/app.js";
export const STYLE_PATH = "/dashboard/assets/app.css";

export const assets = new Hono<AppEnv>();

// no-cache: a browser revalidates, so a platform upgrade reaches open dashboards on their next load.
assets.get(SCRIPT_PATH, (c) => c.body(SCRIPT, 200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-cache" }));
assets.get(STYLE_PATH, (c) => c.body(STYLE, 200, { "content-type": "text/css; charset=utf-8", "cache-control": "no-cache" }));
