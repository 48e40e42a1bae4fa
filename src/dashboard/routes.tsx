// The dashboard at `/`: sign in with a workspace token, see the workspace's
// apps, and each app's functions and class instances live. Pages are
// rendered here; their data comes from /dashboard/api (api.ts).
import { Hono, type Context } from "hono";
import { csrf } from "hono/csrf";
import type { JSX } from "hono/jsx/jsx-runtime";
import type { AppEnv } from "../app-env";
import { db, listApps } from "../db/queries";
import { appContents } from "./data";
import { dashboardApi } from "./api";
import { assets } from "./assets";
import { documentOf, NotFoundPage, SignInPage } from "./layout";
import { AppPage, AppsPage } from "./pages";
import { sessionWorkspace, signIn, signOut } from "./session";

export const dashboard = new Hono<AppEnv>();

const PAGE_HEADERS = {
  // Everything comes from this Worker; nothing runs inline, nothing frames the page.
  "content-security-policy":
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
  "cache-control": "no-store",
  "referrer-policy": "same-origin",
  "x-content-type-options": "nosniff",
};

function page(c: Context<AppEnv>, node: JSX.Element, status: 200 | 401 | 404 = 200) {
  return c.html(documentOf(node), status, PAGE_HEADERS);
}

// Form posts must come from the dashboard's own pages.
dashboard.use("/dashboard/*", csrf());

dashboard.get("/", async (c) => {
  if (!(await sessionWorkspace(c))) return page(c, <SignInPage />);
  const apps = await listApps(db(c.env.DB), c.get("workspaceId"));
  apps.sort((a, b) => a.name.localeCompare(b.name));
  return page(c, <AppsPage apps={apps} />);
});

dashboard.get("/apps/:app", async (c) => {
  if (!(await sessionWorkspace(c))) return c.redirect("/", 303);
  const name = c.req.param("app");
  const contents = await appContents(db(c.env.DB), c.get("workspaceId"), name);
  if (!contents) return page(c, <NotFoundPage message={`This workspace has no app named ${name}.`} />, 404);
  return page(c, <AppPage contents={contents} />);
});

dashboard.post("/dashboard/sign-in", async (c) => {
  const form = await c.req.parseBody();
  const token = typeof form.token === "string" ? form.token.trim() : "";
  if (!token || !(await signIn(c, token))) return page(c, <SignInPage error="That token is not valid for any workspace." />, 401);
  return c.redirect("/", 303);
});

dashboard.post("/dashboard/sign-out", (c) => {
  signOut(c);
  return c.redirect("/", 303);
});

dashboard.route("/", assets);
dashboard.route("/", dashboardApi);
