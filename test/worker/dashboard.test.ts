// The dashboard's sign-in, pages and data routes inside workerd: cookie
// auth, workspace scoping, escaping, and autoscaler updates that validate
// exactly as PATCH /v1/functions/:id/autoscaler does.
import { describe, it, expect } from "vitest";
import { SELF } from "cloudflare:test";
import { encode } from "../../sdk/src/wire/serialization";
import { BASE, api, deploy, errorOf, manifest, newWorkspace } from "./helpers";

/** Browsers send Origin with every form post; the dashboard refuses posts from other sites. */
const SAME_ORIGIN = { origin: BASE };

async function signIn(token: string): Promise<Response> {
  return SELF.fetch(`${BASE}/dashboard/sign-in`, {
    method: "POST",
    headers: { ...SAME_ORIGIN, "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ token }).toString(),
    redirect: "manual",
  });
}

/** Signs in and returns the session cookie to send back. */
async function session(token: string): Promise<string> {
  const res = await signIn(token);
  expect(res.status).toBe(303);
  return /^(squall_session=[^;]+)/.exec(res.headers.get("set-cookie") ?? "")![1];
}

function dashboard(cookie: string) {
  return {
    get: (path: string) => SELF.fetch(`${BASE}${path}`, { headers: { cookie }, redirect: "manual" }),
    patch: (path: string, body: unknown, contentType = "application/json") =>
      SELF.fetch(`${BASE}${path}`, { method: "PATCH", headers: { ...SAME_ORIGIN, cookie, "content-type": contentType }, body: JSON.stringify(body) }),
  };
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

async function deployed(token: string, m: ReturnType<typeof manifest>): Promise<Record<string, string>> {
  const res = await deploy(token, m);
  expect(res.status).toBe(201);
  const body = (await res.json()) as { functions: Array<{ name: string; functionId: string }> };
  return Object.fromEntries(body.functions.map((f) => [f.name, f.functionId]));
}

describe("signing in", () => {
  it("shows the sign-in form, refuses a bad token, and keeps a good one in an HttpOnly SameSite=Strict cookie", async () => {
    const token = await newWorkspace("dash-signin");
    await deployed(token, manifest("listed", [{ name: "f" }]));

    const signedOut = await SELF.fetch(`${BASE}/`);
    expect(signedOut.status).toBe(200);
    expect(await signedOut.text()).toMatch(/<form method="post" action="\/dashboard\/sign-in">/);

    const bad = await signIn("sq_not-a-token");
    expect(bad.status).toBe(401);
    expect(bad.headers.get("set-cookie")).toBeNull();
    expect(await bad.text()).toContain("not valid");

    const good = await signIn(token);
    expect(good.status).toBe(303);
    expect(good.headers.get("location")).toBe("/");
    const cookie = good.headers.get("set-cookie")!;
    expect(cookie).toMatch(/^squall_session=/);
    expect(cookie).toMatch(/; HttpOnly/);
    expect(cookie).toMatch(/; SameSite=Strict/);
    expect(cookie).toMatch(/; Path=\//);

    const home = await dashboard(await session(token)).get("/");
    const page = await home.text();
    expect(home.headers.get("content-security-policy")).toMatch(/script-src 'self'/);
    expect(page).toContain('<a href="/apps/listed">listed</a>');
  });

  it("refuses a sign-in posted from another site, and signs out", async () => {
    const token = await newWorkspace("dash-csrf");
    const forged = await SELF.fetch(`${BASE}/dashboard/sign-in`, {
      method: "POST",
      headers: { origin: "https://evil.example", "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams({ token }).toString(),
      redirect: "manual",
    });
    expect(forged.status).toBe(400); // hono/csrf refuses it; the API speaks 4xx other than 401/413 as INVALID_ARGUMENT
    expect(forged.headers.get("set-cookie")).toBeNull();

    const out = await SELF.fetch(`${BASE}/dashboard/sign-out`, {
      method: "POST",
      headers: { ...SAME_ORIGIN, cookie: await session(token) },
      redirect: "manual",
    });
    expect(out.status).toBe(303);
    expect(out.headers.get("set-cookie")).toMatch(/^squall_session=; Max-Age=0/);
  });
});

describe("data routes", () => {
  it("need a session and answer in the API's error shape", async () => {
    const res = await SELF.fetch(`${BASE}/dashboard/api/apps/anything`);
    expect(res.status).toBe(401);
    expect(await errorOf(res)).toMatchObject({ code: "UNAUTHENTICATED" });
    const page = await SELF.fetch(`${BASE}/apps/anything`, { redirect: "manual" });
    expect(page.status).toBe(303);
  });

  it("answer 404 for another workspace's app and function", async () => {
    const mine = await newWorkspace("dash-mine");
    const theirs = await newWorkspace("dash-theirs");
    const ids = await deployed(theirs, manifest("their-app", [{ name: "f" }]));
    const mySession = dashboard(await session(mine));

    const overview = await mySession.get("/dashboard/api/apps/their-app");
    expect(overview.status).toBe(404);
    expect(await errorOf(overview)).toMatchObject({ code: "NOT_FOUND" });
    const patch = await mySession.patch(`/dashboard/api/functions/${ids.f}/autoscaler`, { bufferContainers: 1 });
    expect(patch.status).toBe(404);
    expect(await errorOf(patch)).toMatchObject({ code: "NOT_FOUND" });
    expect((await mySession.get("/apps/their-app")).status).toBe(404);
  });

  it("an app's overview lists its functions and class instances with stats and setting sources; params are escaped", async () => {
    const token = await newWorkspace("dash-overview");
    const ids = await deployed(
      token,
      manifest("shop", [
        { name: "f", options: { maxContainers: 3 } },
        { name: "Model", kind: "class", methods: ["predict"] },
      ]),
    );
    const params = base64url(encode({ label: "<img src=x onerror=alert(1)>" }));
    // A stats read records the instance, as its first call would.
    expect((await api(token).get(`/v1/functions/${ids.Model}/stats?params=${params}`)).status).toBe(200);

    const s = dashboard(await session(token));
    const res = await s.get("/dashboard/api/apps/shop?since=0");
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      now: number;
      app: { name: string };
      pools: Array<{
        key: string;
        stats: { containers: { total: number }; autoscaler: { maxContainers: number }; autoscalerSources: Record<string, string> };
        recent: unknown[];
      }>;
    };
    expect(body.app.name).toBe("shop");
    expect(body.pools).toHaveLength(2);
    expect(body.pools.find((p) => p.key !== ids.f)!.key).toMatch(new RegExp(`^${ids.Model}\\.[0-9a-f]{32}$`));
    const f = body.pools.find((p) => p.key === ids.f)!;
    expect(f.stats.containers.total).toBe(0);
    expect(f.stats.autoscaler.maxContainers).toBe(3);
    expect(f.stats.autoscalerSources.maxContainers).toBe("declared");
    expect(f.recent).toEqual([]);

    const page = await (await s.get("/apps/shop")).text();
    expect(page).toContain(`data-pool="${ids.f}"`);
    expect(page).toContain("&lt;img src=x onerror=alert(1)&gt;");
    expect(page).not.toContain("<img");
  });

  it("updates autoscaler settings with the API's validation, and the override shows as the source", async () => {
    const token = await newWorkspace("dash-autoscaler");
    const ids = await deployed(token, manifest("tuned", [{ name: "f", options: { maxContainers: 3 } }]));
    const s = dashboard(await session(token));
    const path = `/dashboard/api/functions/${ids.f}/autoscaler`;

    const tooMany = await s.patch(path, { minContainers: 5 });
    const viaApi = await api(token).json("PATCH", `/v1/functions/${ids.f}/autoscaler`, { minContainers: 5 });
    expect(tooMany.status).toBe(400);
    expect(await errorOf(tooMany)).toEqual(await errorOf(viaApi));
    expect((await errorOf(await s.patch(path, { minContainers: "two" }))).message).toMatch(/minContainers/);
    expect((await s.patch(path, "bufferContainers=1", "application/x-www-form-urlencoded")).status).toBe(415);

    const ok = await s.patch(path, { bufferContainers: 1, maxContainers: null });
    expect(ok.status).toBe(200);
    expect(await ok.json()).toEqual({ minContainers: 0, maxContainers: null, bufferContainers: 1, scaledownWindowMs: 60_000 });
    const body = (await (await s.get("/dashboard/api/apps/tuned")).json()) as { pools: Array<{ stats: { autoscalerSources: Record<string, string> } }> };
    expect(body.pools[0].stats.autoscalerSources).toMatchObject({ bufferContainers: "override", maxContainers: "override", minContainers: "declared" });
  });
});

describe("variants on the dashboard", () => {
  it("shows a function's variants as pools of their own, labelled, with their own autoscaler form", async () => {
    const token = await newWorkspace();
    const ids = await deployed(token, manifest("varied", [{ name: "f", options: { maxContainers: 3 } }]));
    // A stats read records the variant, as its first call would.
    expect((await api(token).get(`/v1/functions/${ids.f}/stats?variant=maxInputs%3D4%2CmaxContainers%3D1`)).status).toBe(200);
    const s = dashboard(await session(token));
    const page = await (await s.get("/apps/varied")).text();
    expect(page).toContain("f [maxContainers=1, maxInputs=4]");
    expect(page).toContain('data-variant="maxContainers=1,maxInputs=4"');
    const body = (await (await s.get("/dashboard/api/apps/varied?since=0")).json()) as {
      pools: Array<{ key: string; stats: { autoscaler: { maxContainers: number } } }>;
    };
    expect(body.pools.map((p) => p.stats.autoscaler.maxContainers)).toEqual([3, 1]);
    const patched = await s.patch(`/dashboard/api/functions/${ids.f}/autoscaler?variant=maxContainers%3D1%2CmaxInputs%3D4`, { minContainers: 1 });
    expect(patched.status).toBe(200);
    expect(await patched.json()).toMatchObject({ minContainers: 1, maxContainers: 1 });
    const own = (await (await api(token).get(`/v1/functions/${ids.f}/stats`)).json()) as { autoscaler: { minContainers: number } };
    expect(own.autoscaler.minContainers).toBe(0);
  });
});
