import { describe, it, expect } from "vitest";
import { SELF, env } from "cloudflare:test";
import { buildConfig, poolStub } from "../../src/control/pools";
import { overrideAutoscaler } from "../../src/control/overrides";
import { mintCallId } from "../../src/pool/call-id";
import { db, findFunctionById } from "../../src/db/queries";
import { encode } from "../../sdk/src/wire/serialization";
import { CBOR_CONTENT_TYPE } from "../../sdk/src/wire/api";
import { ROUTES } from "../../sdk/src/wire/routes";
import { BASE, api, cborOf, deploy, errorOf, manifest, newWorkspace } from "./helpers";

describe("health and auth", () => {
  it("answers health without a token", async () => {
    const res = await SELF.fetch(`${BASE}/v1/health`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true });
  });

  it("refuses a missing or wrong token with 401 and the JSON error shape", async () => {
    const missing = await SELF.fetch(`${BASE}/v1/apps`);
    expect(missing.status).toBe(401);
    expect(await errorOf(missing)).toMatchObject({ code: "UNAUTHENTICATED" });
    const wrong = await api("sq_not-a-real-token").get("/v1/apps");
    expect(wrong.status).toBe(401);
  });

  it("creates workspaces only with the admin secret", async () => {
    const res = await SELF.fetch(`${BASE}/v1/workspaces`, {
      method: "POST",
      headers: { authorization: "Bearer nope", "content-type": "application/json" },
      body: JSON.stringify({ name: "x" }),
    });
    expect(res.status).toBe(401);
  });

  it("stores tokens only as hashes", async () => {
    const token = await newWorkspace();
    const rows = await env.DB.prepare("SELECT hash FROM tokens").all<{ hash: string }>();
    expect(rows.results.length).toBeGreaterThan(0);
    for (const r of rows.results) expect(r.hash).not.toContain(token.slice(3));
  });

  it("creates another token for the same workspace", async () => {
    const token = await newWorkspace();
    await deploy(token, manifest("tok-app", [{ name: "f" }]));
    const res = await api(token).json("POST", "/v1/tokens", {});
    expect(res.status).toBe(201);
    const second = ((await res.json()) as { token: string }).token;
    const apps = (await (await api(second).get("/v1/apps")).json()) as { apps: Array<{ name: string }> };
    expect(apps.apps.map((a) => a.name)).toEqual(["tok-app"]);
  });
});

describe("deploy", () => {
  it("deploys an app and looks its function up by name", async () => {
    const token = await newWorkspace();
    const res = await deploy(token, manifest("hello", [{ name: "square", options: { maxContainers: 3 } }]));
    expect(res.status).toBe(201);
    const body = (await res.json()) as { version: number; functions: Array<{ functionId: string; name: string }> };
    expect(body.version).toBe(1);
    const lookup = await api(token).get("/v1/apps/hello/functions/square");
    expect(lookup.status).toBe(200);
    expect(await lookup.json()).toMatchObject({ name: "square", functionId: body.functions[0].functionId, options: { maxContainers: 3 } });
  });

  it("keeps a function's id across deploys and bumps the version", async () => {
    const token = await newWorkspace();
    const first = (await (await deploy(token, manifest("again", [{ name: "f" }]))).json()) as { functions: Array<{ functionId: string }> };
    const second = (await (await deploy(token, manifest("again", [{ name: "f" }, { name: "g" }]))).json()) as {
      version: number;
      functions: Array<{ functionId: string; name: string }>;
    };
    expect(second.version).toBe(2);
    expect(second.functions.find((f) => f.name === "f")!.functionId).toBe(first.functions[0].functionId);
  });

  it.each([
    [{ maxContainers: 2, minContainers: 5 }, /"minContainers" \(5\) must not exceed "maxContainers" \(2\)/],
    [{ bufferContainers: -1 }, /option "bufferContainers" must be between 0/],
    [{ maxContainer: 3 }, /unknown option "maxContainer"/],
    [{ scaledownWindowMs: 10 }, /option "scaledownWindowMs" must be between 2000/],
    [{ concurrent: { maxInputs: 2, targetInputs: 5 } }, /"concurrent.targetInputs" \(5\) must not exceed/],
    [{ schedule: { type: "cron", expression: "61 * * * *", timezone: "UTC" } }, /invalid cron expression/],
    [{ schedule: { type: "cron", expression: "0 6 * * *", timezone: "Mars/Olympus" } }, /unknown timezone "Mars\/Olympus"/],
    [{ batched: { maxBatchSize: 1001, waitMs: 10 } }, /option "batched.maxBatchSize" must be between 1 and 1000, got 1001/],
    [{ batched: { maxBatchSize: 8, waitMs: 600_001 } }, /option "batched.waitMs" must be between 0 and 600000, got 600001/],
    [{ batched: { maxBatchSize: 8, waitMs: 10 }, generator: true }, /option "batched" cannot be used with a generator function/],
  ])("refuses invalid options %j with a message naming the option, storing nothing", async (options, message) => {
    const token = await newWorkspace();
    const res = await deploy(token, manifest("bad", [{ name: "evaluateModel", options }]));
    expect(res.status).toBe(400);
    const error = await errorOf(res);
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toMatch(/function "evaluateModel"/);
    expect(error.message).toMatch(message);
    const apps = (await (await api(token).get("/v1/apps")).json()) as { apps: unknown[] };
    expect(apps.apps).toEqual([]);
  });

  it("refuses bad app and function names", async () => {
    const token = await newWorkspace();
    const badFn = await deploy(token, manifest("ok-name", [{ name: "has space" }]));
    expect(badFn.status).toBe(400);
    expect((await errorOf(badFn)).message).toMatch(/name/);
    const badApp = await api(token).json("POST", "/v1/apps/bad%20app/deployments", { manifest: manifest("bad app", [{ name: "f" }]), bundle: "x" });
    expect(badApp.status).toBe(400);
  });

  it("refuses malformed JSON with a 400", async () => {
    const token = await newWorkspace();
    const res = await SELF.fetch(`${BASE}/v1/apps/x/deployments`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: "{not json",
    });
    expect(res.status).toBe(400);
    expect((await errorOf(res)).code).toBe("INVALID_ARGUMENT");
  });
});

describe("workspaces are isolated", () => {
  it("answers 404 for another workspace's apps, functions, stats and calls", async () => {
    const mine = await newWorkspace("mine");
    const theirs = await newWorkspace("theirs");
    const deployed = (await (await deploy(mine, manifest("private", [{ name: "secret" }]))).json()) as { functions: Array<{ functionId: string }> };
    const fid = deployed.functions[0].functionId;
    expect((await api(theirs).get("/v1/apps/private/functions/secret")).status).toBe(404);
    expect((await api(theirs).get(`/v1/functions/${fid}/stats`)).status).toBe(404);
    expect((await api(theirs).json("POST", "/v1/apps/private/stop", {})).status).toBe(404);
    const apps = (await (await api(theirs).get("/v1/apps")).json()) as { apps: unknown[] };
    expect(apps.apps).toEqual([]);
  });
});

describe("stats and autoscaler overrides", () => {
  it("reports stats with the declared settings", async () => {
    const token = await newWorkspace();
    const d = (await (await deploy(token, manifest("st", [{ name: "f", options: { maxContainers: 7, scaledownWindowMs: 5_000 } }]))).json()) as {
      functions: Array<{ functionId: string }>;
    };
    const res = await api(token).get(`/v1/functions/${d.functions[0].functionId}/stats`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      backlog: 0,
      runningInputs: 0,
      containers: { starting: 0, idle: 0, busy: 0, total: 0 },
      autoscaler: { minContainers: 0, maxContainers: 7, bufferContainers: 0, scaledownWindowMs: 5_000 },
      autoscalerSources: { minContainers: "declared", maxContainers: "declared", bufferContainers: "declared", scaledownWindowMs: "declared" },
      startsHeldBack: null,
    });
  });

  it("merges overrides field by field and reverts them on deploy", async () => {
    const token = await newWorkspace();
    const m = manifest("ov", [{ name: "f", options: { maxContainers: 7 } }]);
    const d = (await (await deploy(token, m)).json()) as { functions: Array<{ functionId: string }> };
    const fid = d.functions[0].functionId;
    expect((await api(token).json("PATCH", `/v1/functions/${fid}/autoscaler`, { maxContainers: 10, scaledownWindowMs: 9_000 })).status).toBe(200);
    const second = await api(token).json("PATCH", `/v1/functions/${fid}/autoscaler`, { bufferContainers: 2 });
    expect(await second.json()).toEqual({ minContainers: 0, maxContainers: 10, bufferContainers: 2, scaledownWindowMs: 9_000 });
    const stats = (await (await api(token).get(`/v1/functions/${fid}/stats`)).json()) as { autoscaler: unknown };
    expect(stats.autoscaler).toEqual({ minContainers: 0, maxContainers: 10, bufferContainers: 2, scaledownWindowMs: 9_000 });

    await deploy(token, m);
    const after = (await (await api(token).get(`/v1/functions/${fid}/stats`)).json()) as { autoscaler: unknown };
    expect(after.autoscaler).toEqual({ minContainers: 0, maxContainers: 7, bufferContainers: 0, scaledownWindowMs: 60_000 });
  });

  it("refuses bad overrides and changes nothing", async () => {
    const token = await newWorkspace();
    const d = (await (await deploy(token, manifest("ov2", [{ name: "f", options: { maxContainers: 3 } }]))).json()) as {
      functions: Array<{ functionId: string }>;
    };
    const fid = d.functions[0].functionId;
    const cases: Array<[unknown, RegExp]> = [
      [{ minContainers: -1 }, /minContainers/],
      [{ minContainers: 5 }, /"minContainers" \(5\) must not exceed "maxContainers" \(3\)/],
      [{ maxContainerz: 1 }, /unknown setting "maxContainerz"/],
    ];
    for (const [body, message] of cases) {
      const res = await api(token).json("PATCH", `/v1/functions/${fid}/autoscaler`, body);
      expect(res.status).toBe(400);
      expect((await errorOf(res)).message).toMatch(message);
    }
    const stats = (await (await api(token).get(`/v1/functions/${fid}/stats`)).json()) as { autoscaler: { minContainers: number } };
    expect(stats.autoscaler.minContainers).toBe(0);
    expect((await api(token).json("PATCH", `/v1/functions/fn-nope/autoscaler`, { minContainers: 1 })).status).toBe(404);
  });
});

describe("calls: bad input", () => {
  it("refuses a non-CBOR body with 415 and broken CBOR with 400", async () => {
    const token = await newWorkspace();
    const d = (await (await deploy(token, manifest("cb", [{ name: "f" }]))).json()) as { functions: Array<{ functionId: string }> };
    const path = `/v1/functions/${d.functions[0].functionId}/calls`;
    const asJson = await api(token).json("POST", path, { kind: "remote" });
    expect(asJson.status).toBe(415);
    const broken = await SELF.fetch(`${BASE}${path}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/cbor" },
      body: new Uint8Array([0xff, 0x00, 0x13]),
    });
    expect(broken.status).toBe(400);
    const wrongShape = await api(token).cbor(path, { kind: "remote", inputs: [{ idx: 0, args: "not bytes" }], closed: true });
    expect(wrongShape.status).toBe(400);
    expect((await errorOf(wrongShape)).message).toMatch(/inputs\.0\.args/);
  });

  it("answers 400 for a malformed call id and 404 for an unknown one", async () => {
    const token = await newWorkspace();
    expect((await api(token).get("/v1/calls/not-a-call/outputs")).status).toBe(400);
    const unknown = mintCallId(env.POOL.idFromName("nobody").toString(), Date.now());
    expect((await api(token).get(`/v1/calls/${unknown}/outputs`)).status).toBe(404);
  });

  it("answers a map's routes' bad input with a 400 naming the field (query before path, body after)", async () => {
    const token = await newWorkspace();
    const d = (await (await deploy(token, manifest("bad", [{ name: "f" }]))).json()) as { functions: Array<{ functionId: string }> };
    const calls = `/v1/functions/${d.functions[0].functionId}/calls`;
    const started = await api(token).cbor(calls, { kind: "map", inputs: [], closed: false });
    expect(started.status).toBe(200);
    const { callId } = await cborOf<{ callId: string }>(started);
    const longId = "fc-" + "a".repeat(198);
    const args = encode([1]);
    const cases: Array<[Promise<Response>, string]> = [
      [api(token).get(`/v1/calls/${callId}/outputs?cursor=abc`), "cursor: must be a whole number in decimal digits"],
      [api(token).get(`/v1/calls/${callId}/outputs?cursor=1&cursor=2`), "cursor: Invalid input: expected string, received array"],
      [api(token).get(`/v1/calls/${callId}/outputs?waitMs=60001`), "waitMs: Too big: expected number to be <=60000"],
      [api(token).get(`/v1/calls/${longId}/outputs`), "callId: Too big: expected string to have <=200 characters"],
      [api(token).get(`/v1/calls/${longId}/outputs?cursor=-1`), "cursor: must be a whole number in decimal digits"],
      [api(token).cbor(`/v1/calls/${longId}/inputs`, { inputs: [], closed: false }), "callId: Too big: expected string to have <=200 characters"],
      [api(token).cbor(`/v1/calls/${callId}/inputs`, { inputs: [{ idx: -1, args }], closed: false }), "inputs.0.idx: Too small: expected number to be >=0"],
      [
        api(token).cbor(`/v1/calls/${callId}/inputs`, {
          inputs: [
            { idx: 0, args },
            { idx: 1, args: "x" },
          ],
          closed: false,
        }),
        "inputs.1.args: Invalid input",
      ],
      [api(token).cbor(`/v1/calls/${callId}/inputs`, { inputs: [], closed: "yes" }), "closed: Invalid input: expected boolean, received string"],
      [
        api(token).cbor(`/v1/calls/${callId}/inputs`, { inputs: Array.from({ length: 1_001 }, (_, idx) => ({ idx, args })), closed: false }),
        "inputs: Too big: expected array to have <=1000 items",
      ],
      [
        api(token).cbor(`/v1/calls/${callId}/inputs`, {
          inputs: [
            { idx: 0, args },
            { idx: 0, args },
          ],
          closed: false,
        }),
        "inputs: idx 0 appears twice",
      ],
      [
        api(token).cbor(`/v1/calls/${callId}/inputs`, {
          inputs: [
            { idx: 0, args },
            { idx: 2, args },
          ],
          closed: false,
        }),
        "inputs: idx must count up by one within a request (idx 2 follows idx 0)",
      ],
      [api(token).cbor(calls, { kind: "map", inputs: [], closed: false, waitMs: 60_001 }), "waitMs: Too big: expected number to be <=60000"],
      [api(token).cbor(calls, { kind: "map", inputs: [], closed: false, requestId: "short" }), "requestId: must be 8 to 64 letters, digits, - or _"],
      [api(token).cbor(calls, { kind: "spawn", inputs: [], closed: false }), 'kind: Invalid option: expected one of "remote"|"map"'],
    ];
    const answers = await Promise.all(cases.map(async ([res]) => [(await res).status, (await errorOf(await res)).message]));
    expect(answers).toEqual(cases.map(([, message]) => [400, message]));
  });

  it("refuses arguments over the inline size limit, naming the input", async () => {
    const token = await newWorkspace();
    const d = (await (await deploy(token, manifest("big", [{ name: "f" }]))).json()) as { functions: Array<{ functionId: string }> };
    const res = await api(token).cbor(`/v1/functions/${d.functions[0].functionId}/calls`, {
      kind: "remote",
      inputs: [{ idx: 0, args: new Uint8Array(2_000_001) }],
      closed: true,
    });
    expect(res.status).toBe(413);
    expect((await errorOf(res)).message).toMatch(/input 0: arguments are 2000001 bytes; the limit is 2000000 bytes per input/);
  });

  it("answers an unknown route with a JSON 404", async () => {
    const res = await api(await newWorkspace()).get("/v1/nothing-here");
    expect(res.status).toBe(404);
    expect((await errorOf(res)).code).toBe("NOT_FOUND");
  });
});

describe("openapi", () => {
  it("documents every route", async () => {
    const doc = (await (await SELF.fetch(`${BASE}/v1/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        "/v1/health",
        "/v1/apps/{app}/deployments",
        "/v1/apps",
        "/v1/apps/{app}/stop",
        "/v1/apps/{app}/functions/{name}",
        "/v1/functions/{functionId}/calls",
        "/v1/functions/{functionId}/spawns",
        "/v1/functions/{functionId}/stats",
        "/v1/functions/{functionId}/autoscaler",
        "/v1/calls/{callId}/inputs",
        "/v1/calls/{callId}/outputs",
        "/v1/calls/{callId}/cancel",
        "/v1/tokens",
      ]),
    );
  });

  it("has exactly the routes of the SDK's route table, with their methods", async () => {
    const doc = (await (await SELF.fetch(`${BASE}/v1/openapi.json`)).json()) as OpenApiDoc;
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.keys(ops).map((m) => `${m.toUpperCase()} ${path}`));
    expect(documented.sort()).toEqual(
      Object.values(ROUTES)
        .map((r) => `${r.method} ${r.path}`)
        .sort(),
    );
  });

  it("describes every CBOR body with its schema, byte strings as binary", async () => {
    const doc = (await (await SELF.fetch(`${BASE}/v1/openapi.json`)).json()) as OpenApiDoc;
    const cborRoutes = Object.values(ROUTES).filter((r) => r.encoding === "cbor");
    expect(cborRoutes.length).toBeGreaterThan(0);
    for (const route of cborRoutes) {
      const op = doc.paths[route.path][route.method.toLowerCase()];
      const response = op.responses["200"].content?.[CBOR_CONTENT_TYPE]?.schema;
      expect(response?.$ref, `${route.method} ${route.path} response`).toMatch(/^#\/components\/schemas\//);
      if (route.method === "POST") {
        expect(op.requestBody?.content[CBOR_CONTENT_TYPE]?.schema?.$ref, `${route.method} ${route.path} request`).toMatch(/^#\/components\/schemas\//);
      }
    }
    const inputs = doc.components.schemas.CreateCallRequest.properties.inputs as { items: { properties: { args: unknown } } };
    expect(inputs.items.properties.args).toMatchObject({ type: "string", format: "binary" });
    expect(doc.components.schemas.GetOutputsResponse.required).toEqual(expect.arrayContaining(["outputs", "cursor", "done"]));
  });
});

interface OpenApiSchema {
  $ref?: string;
  properties: Record<string, unknown>;
  required?: string[];
}
interface OpenApiDoc {
  paths: Record<
    string,
    Record<
      string,
      {
        requestBody?: { content: Record<string, { schema?: OpenApiSchema }> };
        responses: Record<string, { content?: Record<string, { schema?: OpenApiSchema }> }>;
      }
    >
  >;
  components: { schemas: Record<string, OpenApiSchema> };
}

describe("a deploy that removes a class", () => {
  it("stops the pools of the class's instances (a class has no pool of its own)", async () => {
    const token = await newWorkspace("removed-class");
    const first = await deploy(token, manifest("shrinking", [{ name: "f" }, { name: "Model", kind: "class", methods: ["predict"] }]));
    const modelId = ((await first.json()) as { functions: Array<{ name: string; functionId: string }> }).functions.find((f) => f.name === "Model")!.functionId;
    // An instance is called, so its pool exists.
    const called = await api(token).cbor(`/v1/functions/${modelId}/calls`, {
      kind: "map",
      method: "predict",
      params: encode({ v: 1 }),
      inputs: [],
      closed: false,
    });
    expect(called.status).toBe(200);
    const row = await env.DB.prepare("SELECT instance_key AS key FROM class_instances WHERE function_id = ?").bind(modelId).first<{ key: string }>();
    const instancePool = poolStub(env, modelId, row!.key);
    const { workspaceId } = (await env.DB.prepare("SELECT a.workspace_id AS workspaceId FROM functions f JOIN apps a ON a.id = f.app_id WHERE f.id = ?")
      .bind(modelId)
      .first<{ workspaceId: string }>())!;
    // A config older than the one the pool holds changes nothing, so admitting no spawns with it
    // only asks whether the pool takes calls: a stopped one answers CONFLICT.
    const older = { ...buildConfig((await findFunctionById(db(env.DB), workspaceId, modelId))!, { settings: {}, sources: {} }, null, BASE), version: 0 };
    const stopped = async () => {
      const admitted = await instancePool.admitSpawns(older, 0);
      return !admitted.ok && admitted.error.code === "CONFLICT";
    };
    expect(await stopped()).toBe(false);
    expect((await deploy(token, manifest("shrinking", [{ name: "f" }]))).status).toBe(201);
    expect(await stopped()).toBe(true);
  });
});

describe("an autoscaler override from a stale resolution", () => {
  it("does not roll the pool back to the deployment the stale resolution saw", async () => {
    const token = await newWorkspace("stale-override");
    const first = (await (await deploy(token, manifest("stale", [{ name: "f" }]))).json()) as {
      deploymentId: string;
      functions: Array<{ functionId: string }>;
    };
    const functionId = first.functions[0].functionId;
    const { workspaceId } = (await env.DB.prepare("SELECT a.workspace_id AS workspaceId FROM functions f JOIN apps a ON a.id = f.app_id WHERE f.id = ?")
      .bind(functionId)
      .first<{ workspaceId: string }>())!;
    // What an isolate resolved (and cached) before the next deploy.
    const staleFn = (await findFunctionById(db(env.DB), workspaceId, functionId))!;
    const stub = poolStub(env, functionId, "");
    const stale = {
      resolved: staleFn,
      config: buildConfig(staleFn, { settings: {}, sources: {} }, null, BASE),
      stub,
      poolId: "",
      instanceKey: "",
      variant: "",
    };
    const second = (await (await deploy(token, manifest("stale", [{ name: "f", options: { maxContainers: 3 } }]))).json()) as { deploymentId: string };
    expect(second.deploymentId).not.toBe(first.deploymentId);
    await stub.configure(buildConfig((await findFunctionById(db(env.DB), workspaceId, functionId))!, { settings: {}, sources: {} }, null, BASE));
    await overrideAutoscaler(env, stale, { minContainers: 1 });
    const stats = await stub.stats(workspaceId);
    if (!stats.ok) throw new Error(stats.error.message);
    // The second deployment's maxContainers, with the override on top of it.
    expect(stats.value.autoscaler).toMatchObject({ maxContainers: 3, minContainers: 1 });
    expect(stats.value.autoscalerSources).toMatchObject({ maxContainers: "declared", minContainers: "override" });
  });
});

describe("class instance params in a query", () => {
  it("name one pool for one byte string however it is spelled, and refuse text that is not base64url", async () => {
    const token = await newWorkspace("params-spelling");
    const d = (await (await deploy(token, manifest("spelling", [{ name: "Model", kind: "class", methods: ["predict"] }]))).json()) as {
      functions: Array<{ functionId: string }>;
    };
    const modelId = d.functions[0].functionId;
    // "AA", "AB" and "AP" all decode to the single byte 0 (the unused low bits differ).
    for (const spelling of ["AA", "AB", "AP"]) expect((await api(token).get(`/v1/functions/${modelId}/stats?params=${spelling}`)).status).toBe(200);
    const rows = await env.DB.prepare("SELECT COUNT(*) AS n FROM class_instances WHERE function_id = ?").bind(modelId).first<{ n: number }>();
    expect(rows!.n).toBe(1);
    for (const bad of ["A", ""]) {
      const res = await api(token).get(`/v1/functions/${modelId}/stats?params=${bad}`);
      expect(res.status).toBe(400);
      expect(await errorOf(res)).toMatchObject({ code: "INVALID_ARGUMENT" });
    }
  });
});
