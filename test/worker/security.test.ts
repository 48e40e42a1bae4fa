// Issue "Reliability and security": tokens, workspace isolation on every
// route, per-container secrets, limits on names and sizes, the per-token
// request rate, and secrets kept out of error messages and logs. Inside
// workerd (vitest-pool-workers): the real Worker, D1, R2 and pool objects.
import { describe, it, expect, beforeAll, afterAll, vi } from "vitest";
import { createExecutionContext, env } from "cloudflare:test";
import worker from "../../src/index";
import { encode } from "../../sdk/src/wire/serialization";
import { containerSecret, containerToken } from "../../src/auth/crypto";
import { createApi } from "../../src/api/app";
import { DEFAULT_RATE_LIMIT, TokenBuckets, rateLimitOf } from "../../src/api/rate-limit";
import { BASE, cborOf } from "./helpers";

const ADMIN = "test-admin-secret";
const SIGNING_KEY = "test-signing-key";
const BUNDLE = "export const privateBundle = 'only for its own containers';";

/** Every secret this file hands out; none may appear in an error message or a log line. */
const secrets = new Set<string>([ADMIN, SIGNING_KEY]);
/** Every response body this file saw, checked for secrets at the end. */
const seen: Array<{ what: string; status: number; body: string }> = [];

async function call(
  method: string,
  path: string,
  init: { token?: string; json?: unknown; cbor?: unknown; headers?: Record<string, string>; body?: BodyInit } = {},
) {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  let body = init.body;
  if (init.json !== undefined) {
    headers["content-type"] = "application/json";
    body = JSON.stringify(init.json);
  } else if (init.cbor !== undefined) {
    headers["content-type"] = "application/cbor";
    body = encode(init.cbor) as BodyInit;
  }
  const res = await fetchWorker(new Request(`${BASE}${path}`, { method, headers, body, redirect: "manual" }));
  const raw = new Uint8Array(await res.arrayBuffer());
  const text = new TextDecoder().decode(raw);
  seen.push({ what: `${method} ${path}`, status: res.status, body: text });
  // eslint-disable-next-line @typescript-eslint/no-explicit-any -- the tests reach into bodies by path; a wrong path fails its assertion
  return { status: res.status, headers: res.headers, raw, text, json: () => JSON.parse(text) as Record<string, any> };
}

/**
 * The Worker's own fetch handler, called in this isolate: the same code
 * SELF.fetch reaches, without the service-binding hop (which costs ~15 ms a
 * request on a busy machine; the rate-limit test needs thousands).
 */
function fetchWorker(request: Request): Promise<Response> {
  return Promise.resolve(worker.fetch!(request as Parameters<NonNullable<typeof worker.fetch>>[0], env, createExecutionContext()));
}

async function workspace(name: string): Promise<{ workspaceId: string; token: string }> {
  const res = await call("POST", "/v1/workspaces", { token: ADMIN, json: { name } });
  expect(res.status).toBe(201);
  const { workspaceId, token } = res.json() as { workspaceId: string; token: string };
  secrets.add(token);
  return { workspaceId, token };
}

function base64url(bytes: Uint8Array): string {
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, "-")
    .replace(/\//g, "_")
    .replace(/=+$/, "");
}

const logged: string[] = [];
const consoleMethods = ["log", "info", "warn", "error", "debug"] as const;

beforeAll(() => {
  // The Worker runs in this isolate: whatever it logs passes through these.
  for (const m of consoleMethods) {
    const original = console[m].bind(console);
    vi.spyOn(console, m).mockImplementation((...args: unknown[]) => {
      logged.push(args.map((a) => (a instanceof Error ? `${a.message}\n${a.stack}` : typeof a === "string" ? a : safeJson(a))).join(" "));
      original(...args);
    });
  }
});

afterAll(() => {
  vi.restoreAllMocks();
});

function safeJson(v: unknown): string {
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return String(v);
  }
}

describe("tokens", () => {
  it("are stored only as SHA-256 hashes: no table in D1 holds a token in clear", async () => {
    const { token } = await workspace("hashed");
    const extra = (await call("POST", "/v1/tokens", { token })).json().token as string;
    secrets.add(extra);
    const tables = await env.DB.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND name NOT LIKE '_cf_%'").all<{
      name: string;
    }>();
    expect(tables.results.map((t) => t.name)).toContain("tokens");
    let dump = "";
    for (const { name } of tables.results) dump += JSON.stringify((await env.DB.prepare(`SELECT * FROM "${name}"`).all()).results);
    const digest = async (t: string) =>
      [...new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(t)))].map((b) => b.toString(16).padStart(2, "0")).join("");
    for (const t of [token, extra]) {
      expect(dump).not.toContain(t.slice(3)); // the random part, with or without its prefix
      expect(dump).toContain(await digest(t));
    }
  });
});

describe("a token reaches only its own workspace", () => {
  let owner: { workspaceId: string; token: string };
  let intruder: { workspaceId: string; token: string };
  const ids: Record<string, string> = {};
  let instanceParams = "";

  beforeAll(async () => {
    owner = await workspace("owner");
    intruder = await workspace("intruder");
    const deployed = await call("POST", "/v1/apps/private/deployments", {
      token: owner.token,
      json: {
        manifest: {
          name: "private",
          functions: [
            { name: "secret", kind: "function", options: {} },
            { name: "Model", kind: "class", options: {}, methods: ["predict"] },
          ],
        },
        bundle: BUNDLE,
      },
    });
    expect(deployed.status).toBe(201);
    const d = deployed.json() as { deploymentId: string; functions: Array<{ name: string; functionId: string }> };
    ids.deploymentId = d.deploymentId;
    ids.functionId = d.functions.find((f) => f.name === "secret")!.functionId;
    ids.classId = d.functions.find((f) => f.name === "Model")!.functionId;
    instanceParams = base64url(encode({ modelVersion: "1" }));
    // A call of each kind, so call routes have real ids to try.
    const remote = await call("POST", `/v1/functions/${ids.functionId}/calls`, {
      token: owner.token,
      cbor: { kind: "map", inputs: [{ idx: 0, args: encode([1]) }], closed: false },
    });
    expect(remote.status).toBe(200);
    ids.callId = (await cborOf<{ callId: string }>(new Response(remote.raw))).callId;
    const onInstance = await call("POST", `/v1/functions/${ids.classId}/calls`, {
      token: owner.token,
      cbor: { kind: "map", method: "predict", params: encode({ modelVersion: "1" }), inputs: [{ idx: 0, args: encode([1]) }], closed: false },
    });
    expect(onInstance.status).toBe(200);
    ids.instanceCallId = (await cborOf<{ callId: string }>(new Response(onInstance.raw))).callId;
    // The intruder has an app of its own.
    const own = await call("POST", "/v1/apps/theirs/deployments", {
      token: intruder.token,
      json: { manifest: { name: "theirs", functions: [{ name: "f", kind: "function", options: {} }] }, bundle: "export const x = 1;" },
    });
    expect(own.status).toBe(201);
  });

  /** A request for every documented route, with the owner's real ids and a body that would be valid for the owner. */
  function requestsFor(method: string, path: string): Array<{ label: string; path: string; init: Parameters<typeof call>[2] }> {
    const params = [...path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]);
    const variants: Array<{ fn: string; call: string; query: string; classBody: Record<string, unknown> }> = [
      { fn: ids.functionId, call: ids.callId, query: "", classBody: {} },
    ];
    if (params.includes("functionId") || params.includes("callId")) {
      variants.push({
        fn: ids.classId,
        call: ids.instanceCallId,
        query: `?params=${instanceParams}`,
        classBody: { method: "predict", params: encode({ modelVersion: "1" }) },
      });
    }
    return variants.map((v) => {
      let filled = path;
      for (const p of params) {
        const value = { app: "private", name: "secret", functionId: v.fn, callId: v.call, deploymentId: ids.deploymentId }[p];
        if (!value) throw new Error(`the isolation walk has no value for {${p}} in ${method.toUpperCase()} ${path}: teach it this route`);
        filled = filled.replace(`{${p}}`, value);
      }
      const key = `${method.toUpperCase()} ${path}`;
      const args = encode([2]);
      const bodies: Record<string, Parameters<typeof call>[2]> = {
        "POST /v1/functions/{functionId}/calls": { cbor: { kind: "remote", inputs: [{ idx: 0, args }], closed: true, ...v.classBody } },
        "POST /v1/functions/{functionId}/spawns": { cbor: { inputs: [{ idx: 0, args }], ...v.classBody } },
        "PATCH /v1/functions/{functionId}/autoscaler": { json: { maxContainers: 9 } },
        "POST /v1/calls/{callId}/inputs": { cbor: { inputs: [{ idx: 5, args }], closed: true, ...(v.classBody.method ? { method: "predict" } : {}) } },
      };
      const query = params.includes("functionId") && method === "get" ? v.query : params.includes("functionId") && method === "patch" ? v.query : "";
      const extra = key === "GET /v1/internal/bundles/{deploymentId}" ? "?container=ct-0123456789abcdef0123" : "";
      return { label: `${key}${v.query ? " (class instance)" : ""}`, path: filled + query + extra, init: bodies[key] ?? {} };
    });
  }

  it("every route of the OpenAPI document answers 404 for another workspace's apps, functions, instances and calls", async () => {
    const doc = (await call("GET", "/v1/openapi.json")).json() as { paths: Record<string, Record<string, unknown>> };
    const checked: string[] = [];
    for (const [path, item] of Object.entries(doc.paths)) {
      for (const method of Object.keys(item)) {
        const key = `${method.toUpperCase()} ${path}`;
        if (!path.includes("{")) continue; // routes without ids: below
        if (key === "POST /v1/apps/{app}/deployments") continue; // deploying a name creates one's own app: below
        for (const r of requestsFor(method, path)) {
          const res = await call(method.toUpperCase(), r.path, { token: intruder.token, ...r.init });
          // The bundle route takes container secrets only: a workspace token is not one.
          const expected = key === "GET /v1/internal/bundles/{deploymentId}" ? 401 : 404;
          expect({ route: r.label, status: res.status }).toEqual({ route: r.label, status: expected });
          expect(res.json().error.code).toBe(expected === 404 ? "NOT_FOUND" : "UNAUTHENTICATED");
          checked.push(r.label);
        }
      }
    }
    // The walk covered the routes that take ids (a route that escaped it would fail the next test).
    expect(checked.length).toBeGreaterThanOrEqual(14);
    expect(checked).toEqual(
      expect.arrayContaining(["GET /v1/calls/{callId}/outputs (class instance)", "PATCH /v1/functions/{functionId}/autoscaler (class instance)"]),
    );
  });

  it("a foreign id is answered exactly as an id that does not exist (no oracle for what others have)", async () => {
    const madeUpFunction = "fn-000000000000000000000000";
    const madeUpCall = ids.callId.replace(/[0-9a-f]{16}$/, "0000000000000000");
    for (const [foreign, madeUp, path] of [
      [ids.functionId, madeUpFunction, (id: string) => `/v1/functions/${id}/stats`],
      [ids.callId, madeUpCall, (id: string) => `/v1/calls/${id}/outputs`],
    ] as const) {
      const a = await call("GET", path(foreign), { token: intruder.token });
      const b = await call("GET", path(madeUp), { token: intruder.token });
      expect(a.status).toBe(b.status);
      expect(a.json().error.message.replace(foreign, "ID")).toBe(b.json().error.message.replace(madeUp, "ID"));
    }
  });

  it("the routes without ids show the caller only its own workspace", async () => {
    const doc = (await call("GET", "/v1/openapi.json")).json() as { paths: Record<string, Record<string, unknown>> };
    const plain = Object.entries(doc.paths).flatMap(([path, item]) => (path.includes("{") ? [] : Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`)));
    const expectations: Record<string, () => Promise<void>> = {
      "GET /v1/health": async () => expect((await call("GET", "/v1/health")).status).toBe(200),
      "GET /v1/apps": async () => {
        const res = await call("GET", "/v1/apps", { token: intruder.token });
        expect(res.status).toBe(200);
        expect((res.json().apps as Array<{ name: string }>).map((a) => a.name)).toEqual(["theirs"]);
      },
      "POST /v1/tokens": async () => {
        const res = await call("POST", "/v1/tokens", { token: intruder.token });
        expect(res.status).toBe(201);
        secrets.add(res.json().token);
        expect(res.json().workspaceId).toBe(intruder.workspaceId);
      },
      "POST /v1/calls/outputs": async () => {
        // Another workspace's calls are missing, exactly like calls that never existed.
        const madeUp = ids.callId.replace(/[0-9a-f]{16}$/, "0000000000000000");
        const res = await call("POST", "/v1/calls/outputs", { token: intruder.token, cbor: { callIds: [ids.callId, ids.instanceCallId, madeUp], waitMs: 0 } });
        expect(res.status).toBe(200);
        const body = await cborOf<{ results: unknown[]; missing: string[] }>(new Response(res.raw));
        expect(body.results).toEqual([]);
        expect(body.missing.sort()).toEqual([ids.callId, ids.instanceCallId, madeUp].sort());
      },
      "POST /v1/workspaces": async () => {
        const res = await call("POST", "/v1/workspaces", { token: intruder.token, json: { name: "mine now" } });
        expect(res.status).toBe(401);
      },
    };
    // A new route without ids must be added here, with what it may show.
    expect(plain.sort()).toEqual(Object.keys(expectations).sort());
    for (const check of Object.values(expectations)) await check();
  });

  it("every /v1 route the Worker serves is in the OpenAPI document, so the walks above cover it", () => {
    const doc = createApi();
    const served = new Set(
      doc.routes.filter((r) => r.path.startsWith("/v1/") && r.method !== "ALL").map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, "{$1}")}`),
    );
    const documented = new Set(
      Object.entries(
        (doc.getOpenAPI31Document({ openapi: "3.1.0", info: { title: "t", version: "0" } }).paths ?? {}) as Record<string, Record<string, unknown>>,
      ).flatMap(([path, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${path}`)),
    );
    served.delete("GET /v1/openapi.json"); // the document itself
    for (const route of served) expect(documented, route).toContain(route);
  });

  it("the dashboard's data routes answer 404 for another workspace's apps and functions", async () => {
    const routes = createApi().routes.filter((r) => r.path.startsWith("/dashboard/api/") && r.method !== "ALL");
    expect(routes.length).toBeGreaterThan(0);
    const cookie = `squall_session=${intruder.token}`;
    for (const r of routes) {
      for (const [fn, query] of [
        [ids.functionId, ""],
        [ids.classId, `?params=${instanceParams}`],
      ] as const) {
        const path = r.path.replace(/:(\w+)/g, (_, p: string) => {
          const value = { app: "private", functionId: fn, name: "secret" }[p];
          if (!value) throw new Error(`no value for :${p} in dashboard route ${r.method} ${r.path}: teach the walk this route`);
          return value;
        });
        const res = await call(r.method, path + query, {
          headers: { cookie, origin: BASE, ...(r.method === "GET" ? {} : { "content-type": "application/json" }) },
          body: r.method === "GET" ? undefined : JSON.stringify({ maxContainers: 9 }),
        });
        expect({ route: `${r.method} ${r.path}${query}`, status: res.status }).toEqual({ route: `${r.method} ${r.path}${query}`, status: 404 });
      }
    }
  });

  it("deploying an app of the same name creates the intruder's own app and leaves the owner's untouched", async () => {
    const res = await call("POST", "/v1/apps/private/deployments", {
      token: intruder.token,
      json: { manifest: { name: "private", functions: [{ name: "secret", kind: "function", options: { maxContainers: 1 } }] }, bundle: "export const y = 2;" },
    });
    expect(res.status).toBe(201);
    const theirs = res.json() as { version: number; deploymentId: string; functions: Array<{ functionId: string }> };
    expect(theirs.version).toBe(1);
    expect(theirs.functions[0].functionId).not.toBe(ids.functionId);
    const mine = await call("GET", "/v1/apps", { token: owner.token });
    const app = (mine.json().apps as Array<{ name: string; version: number; deploymentId: string; state: string }>).find((a) => a.name === "private")!;
    expect(app).toMatchObject({ version: 1, deploymentId: ids.deploymentId, state: "deployed" });
  });

  it("nothing the intruder tried changed the owner's workspace", async () => {
    const lookup = await call("GET", "/v1/apps/private/functions/secret", { token: owner.token });
    expect(lookup.status).toBe(200);
    expect(lookup.json().functionId).toBe(ids.functionId);
    const stats = await call("GET", `/v1/functions/${ids.functionId}/stats`, { token: owner.token });
    expect(stats.status).toBe(200);
    expect(stats.json().autoscaler.maxContainers).toBeNull(); // the intruder's PATCH {maxContainers: 9} never landed
    expect(stats.json().autoscalerSources.maxContainers).toBe("declared");
    const instance = await call("GET", `/v1/functions/${ids.classId}/stats?params=${instanceParams}`, { token: owner.token });
    expect(instance.json().autoscaler.maxContainers).toBeNull();
    // The calls were neither cancelled nor closed: the owner can still add inputs.
    const more = await call("POST", `/v1/calls/${ids.callId}/inputs`, { token: owner.token, cbor: { inputs: [{ idx: 1, args: encode([3]) }], closed: true } });
    expect(more.status).toBe(200);
  });

  it("a container token speaks for its own workspace only, and a forged one is refused", async () => {
    const ownerContainer = await containerToken(SIGNING_KEY, owner.workspaceId);
    secrets.add(ownerContainer);
    expect((await call("GET", "/v1/apps/private/functions/secret", { token: ownerContainer })).status).toBe(200);
    const asIntruder = await call("GET", "/v1/apps", { token: await containerToken(SIGNING_KEY, intruder.workspaceId) });
    expect((asIntruder.json().apps as Array<{ name: string; version: number }>).map((a) => a.name).sort()).toEqual(["private", "theirs"]);
    expect((await call("GET", `/v1/functions/${ids.functionId}/stats`, { token: await containerToken(SIGNING_KEY, intruder.workspaceId) })).status).toBe(404);
    // Another workspace's id with this workspace's MAC, or a MAC from another key: 401.
    const mac = ownerContainer.split("_")[2];
    for (const forged of [
      `sqc_${intruder.workspaceId}_${mac}`,
      await containerToken("not-the-key", owner.workspaceId),
      `sqc_${owner.workspaceId}_${"0".repeat(64)}`,
    ]) {
      expect((await call("GET", "/v1/apps", { token: forged })).status).toBe(401);
    }
  });
});

describe("per-container secrets", () => {
  let deploymentA = "";
  let deploymentB = "";

  beforeAll(async () => {
    const { token } = await workspace("bundles");
    const deployApp = async (name: string, bundle: string) => {
      const res = await call("POST", `/v1/apps/${name}/deployments`, {
        token,
        json: { manifest: { name, functions: [{ name: "f", kind: "function", options: {} }] }, bundle },
      });
      expect(res.status).toBe(201);
      return res.json().deploymentId as string;
    };
    deploymentA = await deployApp("bundle-a", "export const a = 'bundle of A';");
    deploymentB = await deployApp("bundle-b", "export const b = 'bundle of B';");
  });

  const bundle = (deploymentId: string, container: string, secret?: string) =>
    call("GET", `/v1/internal/bundles/${deploymentId}?container=${container}`, secret === undefined ? {} : { headers: { authorization: `Bearer ${secret}` } });

  it("the bundle download needs the secret of that container of that deployment", async () => {
    const secretA = await containerSecret(SIGNING_KEY, deploymentA, "ct-aaaa");
    secrets.add(secretA);
    const ok = await bundle(deploymentA, "ct-aaaa", secretA);
    expect(ok.status).toBe(200);
    expect(ok.text).toContain("bundle of A");

    const refusals: Array<[string, Awaited<ReturnType<typeof bundle>>]> = [
      ["no secret", await bundle(deploymentA, "ct-aaaa")],
      ["a wrong secret", await bundle(deploymentA, "ct-aaaa", "0".repeat(64))],
      ["A's secret for deployment B", await bundle(deploymentB, "ct-aaaa", secretA)],
      ["A's secret for another container", await bundle(deploymentA, "ct-bbbb", secretA)],
      ["a secret made with another key", await bundle(deploymentA, "ct-aaaa", await containerSecret("not-the-key", deploymentA, "ct-aaaa"))],
      ["the admin secret", await bundle(deploymentA, "ct-aaaa", ADMIN)],
      [
        "a workspace token",
        await bundle(
          deploymentA,
          "ct-aaaa",
          [...secrets].find((s) => s.startsWith("sq_"))!,
        ),
      ],
    ];
    for (const [what, res] of refusals) {
      expect({ what, status: res.status }).toEqual({ what, status: 401 });
      expect(res.json().error.code).toBe("UNAUTHENTICATED");
      expect(res.text).not.toContain("bundle of");
    }
    // The refusal does not hand out the secret it expected.
    expect(refusals[0][1].text).not.toContain(secretA);
  });

  it("a runner of deployment A cannot read deployment B's bundle, even though both were deployed by one workspace", async () => {
    const secretB = await containerSecret(SIGNING_KEY, deploymentB, "ct-bbbb");
    secrets.add(secretB);
    expect((await bundle(deploymentB, "ct-bbbb", secretB)).text).toContain("bundle of B");
    for (const container of ["ct-bbbb", "ct-aaaa"]) {
      const res = await bundle(deploymentA, container, secretB);
      expect(res.status).toBe(401);
      expect(res.text).not.toContain("bundle of A");
    }
  });
});

describe("limits on names and sizes", () => {
  let token = "";
  beforeAll(async () => {
    token = (await workspace("limits")).token;
  });

  const deployNamed = (app: string, fn: string, methods?: string[]) =>
    call("POST", `/v1/apps/${encodeURIComponent(app)}/deployments`, {
      token,
      json: {
        manifest: { name: app, functions: [{ name: fn, kind: methods ? "class" : "function", options: {}, ...(methods ? { methods } : {}) }] },
        bundle: "export const x = 1;",
      },
    });

  it("app and function names are 1 to 64 letters, digits, - and _", async () => {
    const longest = "a".repeat(64);
    expect((await deployNamed(longest, "f")).status).toBe(201);
    expect((await deployNamed("fn-names", longest)).status).toBe(201);
    expect((await deployNamed("under_score-and-dash9", "F_9-x")).status).toBe(201);
    const bad = [
      "a".repeat(65),
      "",
      "has space",
      "dot.ted",
      "slash/ed",
      "-leading",
      "_leading",
      "ünïcödé",
      "emoji😀",
      "tab\t",
      "nul\u0000",
      "semi;colon",
      "quote'",
      "..",
      "%2e%2e",
    ];
    for (const name of bad) {
      const asApp = await deployNamed(name, "f");
      // "" and ".." never reach the route: /v1/apps//deployments and /v1/apps/../deployments are other paths.
      expect({ name, status: asApp.status }).toEqual({ name, status: name === "" || name === ".." ? 404 : 400 });
      const asFunction = await deployNamed("fn-names", name);
      expect({ name, status: asFunction.status }).toEqual({ name, status: 400 });
      expect(asFunction.json().error.code).toBe("INVALID_ARGUMENT");
    }
    const methods = await deployNamed("cls-names", "Model", ["ok", "not ok"]);
    expect(methods.status).toBe(400);
    expect(methods.json().error.message).toMatch(/methods/);
    const apps = (await call("GET", "/v1/apps", { token })).json().apps as Array<{ name: string; functions: string[] }>;
    expect(apps.map((a) => a.name).sort()).toEqual([longest, "fn-names", "under_score-and-dash9"].sort());
    expect(apps.find((a) => a.name === "fn-names")!.functions).toEqual([longest]);
  });

  it("a body over 32 MiB is refused with 413 before it is read, and a bundle over 20 MB with 413", async () => {
    const huge = await call("POST", "/v1/apps/big/deployments", {
      token,
      headers: { "content-type": "application/json" },
      body: new Uint8Array(32 * 1024 * 1024 + 1).fill(0x20),
    });
    expect(huge.status).toBe(413);
    expect(huge.json().error.code).toBe("PAYLOAD_TOO_LARGE");
    const bigBundle = await call("POST", "/v1/apps/big/deployments", {
      token,
      json: { manifest: { name: "big", functions: [{ name: "f", kind: "function", options: {} }] }, bundle: "x".repeat(20 * 1024 * 1024 + 1) },
    });
    expect(bigBundle.status).toBe(413);
    expect(bigBundle.json().error.message).toMatch(/bundle is 20971521 bytes; the limit is 20971520/);
    expect((await call("GET", "/v1/apps", { token })).json().apps.map((a: { name: string }) => a.name)).not.toContain("big");
  });

  it("the dashboard takes bodies of at most 64 KiB", async () => {
    const big = await call("PATCH", "/dashboard/api/functions/fn-x/autoscaler", {
      headers: { cookie: `squall_session=${token}`, origin: BASE, "content-type": "application/json" },
      body: JSON.stringify({ minContainers: 1, padding: "x".repeat(64 * 1024) }),
    });
    expect(big.status).toBe(413);
    expect(big.json().error.code).toBe("PAYLOAD_TOO_LARGE");
    const signIn = await call("POST", "/dashboard/sign-in", {
      headers: { origin: BASE, "content-type": "application/x-www-form-urlencoded" },
      body: `token=${"x".repeat(100 * 1024)}`,
    });
    expect(signIn.status).toBe(413);
  });
});

describe("per-token request rate", () => {
  it("a token bucket allows a burst, then the sustained rate, and says how long to wait", () => {
    const buckets = new TokenBuckets({ perSecond: 10, burst: 50 });
    let t = 1_000_000;
    for (let i = 0; i < 50; i++) expect(buckets.take("a", t)).toEqual({ ok: true });
    expect(buckets.take("a", t)).toEqual({ ok: false, retryAfterMs: 100 });
    expect(buckets.take("b", t)).toEqual({ ok: true }); // each key has its own bucket
    t += 50;
    expect(buckets.take("a", t)).toEqual({ ok: false, retryAfterMs: 50 });
    t += 50;
    expect(buckets.take("a", t)).toEqual({ ok: true });
    expect(buckets.take("a", t).ok).toBe(false);
    t += 60_000; // a long quiet spell refills to the burst, no further
    let admitted = 0;
    while (buckets.take("a", t).ok) admitted++;
    expect(admitted).toBe(50);
    // A clock that steps back never adds tokens.
    expect(buckets.take("a", t - 10_000).ok).toBe(false);
  });

  it("the API answers 429 RESOURCE_EXHAUSTED with Retry-After past the burst, per token", async () => {
    const { token } = await workspace("rate");
    const second = (await call("POST", "/v1/tokens", { token })).json().token as string;
    secrets.add(second);
    // A small limit set the way an operator would (the default's burst is 10 000 requests).
    const limit = { perSecond: 20, burst: 300 };
    const limitedEnv = { ...env, SQUALL_RATE_LIMIT_PER_SECOND: String(limit.perSecond), SQUALL_RATE_LIMIT_BURST: String(limit.burst) };
    expect(rateLimitOf(limitedEnv)).toEqual(limit);
    expect(rateLimitOf({})).toEqual(DEFAULT_RATE_LIMIT);
    const limited = (path: string, bearer: string): Promise<Response> =>
      Promise.resolve(
        worker.fetch!(
          new Request(`${BASE}${path}`, { headers: { authorization: `Bearer ${bearer}` } }) as Parameters<NonNullable<typeof worker.fetch>>[0],
          limitedEnv,
          createExecutionContext(),
        ),
      );
    const limitedPath = "/v1/calls/not-a-call/outputs"; // cheap: refused (400) right after auth
    let sent = 0;
    let refused: Response | null = null;
    while (!refused && sent < limit.burst * 3) {
      const batch = await Promise.all(Array.from({ length: 100 }, () => limited(limitedPath, token)));
      sent += batch.length;
      for (const res of batch) {
        if (res.status === 429 && !refused) refused = res;
        else await res.body?.cancel();
        if (res.status !== 429) expect(res.status).toBe(400);
      }
    }
    expect(refused, `no 429 after ${sent} requests`).not.toBeNull();
    expect(sent).toBeGreaterThan(limit.burst); // the whole burst was allowed
    expect(Number(refused!.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    const text = await refused!.text();
    seen.push({ what: "429", status: 429, body: text });
    const body = JSON.parse(text) as { error: { code: string; message: string; retryAfterMs: number } };
    expect(body.error.code).toBe("RESOURCE_EXHAUSTED");
    expect(body.error.retryAfterMs).toBeGreaterThan(0);
    expect(body.error.message).toMatch(/too many requests/);
    // The bucket is the token's: another token of the same workspace is not limited.
    expect((await limited("/v1/apps", second)).status).toBe(200);
    // Once the wait is over the token works again.
    await new Promise((r) => setTimeout(r, body.error.retryAfterMs + 20));
    expect((await limited("/v1/apps", token)).status).toBe(200);
  }, 60_000);
});

describe("secrets stay out of answers and logs", () => {
  it("errors never echo a token or a secret, even one sent in the request", async () => {
    const { token } = await workspace("echo");
    const near = token.slice(0, -1) + (token.endsWith("0") ? "1" : "0");
    for (const res of [
      await call("GET", "/v1/apps", { token: near }),
      await call("GET", "/v1/apps", { headers: { authorization: `Basic ${token}` } }),
      await call("POST", "/v1/workspaces", { token: near, json: { name: "x" } }),
      await call("GET", "/v1/functions/fn-x/stats", { token, headers: { "x-squall-token": token } }),
    ]) {
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.text).not.toContain(token.slice(3));
      expect(res.text).not.toContain(near.slice(3));
    }
  });

  it("the Worker's log lines reach this file's spy (a spawn queue that refuses a batch is logged)", async () => {
    const { token } = await workspace("logs");
    const deployed = await call("POST", "/v1/apps/logged/deployments", {
      token,
      json: { manifest: { name: "logged", functions: [{ name: "f", kind: "function", options: {} }] }, bundle: "export const x = 1;" },
    });
    expect(deployed.status).toBe(201);
    const functionId = (deployed.json().functions as Array<{ functionId: string }>)[0].functionId;
    const refuse = (): Promise<never> => Promise.reject(new Error("the queue is down"));
    const queueDown = { ...env, SPAWN_QUEUE: { send: refuse, sendBatch: refuse } as unknown as typeof env.SPAWN_QUEUE };
    const before = logged.length;
    const res = await worker.fetch!(
      new Request(`${BASE}/v1/functions/${functionId}/spawns`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/cbor" },
        body: encode({ inputs: [{ idx: 0, args: encode([1]) }] }) as BodyInit,
      }) as Parameters<NonNullable<typeof worker.fetch>>[0],
      queueDown,
      createExecutionContext(),
    );
    expect(res.status).toBe(200);
    expect(logged.slice(before).some((line) => line.includes("spawn queue refused a batch (the queue is down)"))).toBe(true);
  });

  it("no response this file received and no line the Worker logged contains a token or a secret", () => {
    expect(seen.length).toBeGreaterThan(50);
    expect(logged.length, "the spy captured the Worker's log lines").toBeGreaterThan(0);
    for (const secret of secrets) {
      for (const r of seen) {
        // Responses that hand out a token (creating a workspace or a token) and the bundle route's body are the exceptions.
        if (r.body.includes(`"token":"${secret}"`)) continue;
        expect(r.body.includes(secret), `${r.what} (${r.status}) echoed a secret`).toBe(false);
      }
      for (const line of logged) expect(line.includes(secret), `a log line holds a secret: ${line.slice(0, 200)}`).toBe(false);
    }
  });
});
