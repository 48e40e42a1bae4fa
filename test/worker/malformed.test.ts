// Issue "Reliability and security": malformed input. Well over 1 000
// malformed requests, generated from a seeded PRNG across every route
// (wrong types, missing fields, huge numbers, odd Unicode, oversized bodies,
// broken CBOR and JSON, wrong content types, bad ids, queries, credentials
// and methods). Every answer must be a 4xx in the one JSON error shape, none
// a 5xx, and the workspace must look exactly as before afterwards.
import { describe, it, expect, beforeAll } from "vitest";
import { createExecutionContext, env } from "cloudflare:test";
import worker from "../../src/index";
import { createApi } from "../../src/api/app";
import { encode } from "../../sdk/src/wire/serialization";
import { mintCallId } from "../../src/pool/call-id";
import { BASE } from "./helpers";
import { prng, type Rng } from "../fixtures/prng";

const SEED = 0x5eed_2026;
/** Requests per route: 21 routes today, so well over 1 000 in all. */
const PER_ROUTE = 64;
const APP = "victim";

/** The Worker's fetch handler in this isolate (what SELF.fetch reaches, minus the ~15 ms service-binding hop per request). */
function fetchWorker(request: Request): Promise<Response> {
  return Promise.resolve(worker.fetch!(request as Parameters<NonNullable<typeof worker.fetch>>[0], env, createExecutionContext()));
}

interface Spec {
  route: string;
  method: string;
  path: string;
  headers: Record<string, string>;
  body?: BodyInit;
  note: string;
}

// ---- the raw material of malformed requests ---------------------------------

/** Strings no name, id or setting accepts: too long, odd Unicode, control characters, injection attempts. */
const ODD_STRINGS = [
  "",
  " ",
  "a".repeat(65),
  "a".repeat(4_000),
  "ünïcödé",
  "😀😀",
  "\u0000",
  "nul\u0000byte",
  "\u202eevil",
  "zero\u200bwidth",
  "\ud800",
  "\udfff\ud800",
  "../..",
  "a/b",
  "a.b",
  "<script>alert(1)</script>",
  "' OR 1=1 --",
  "\n\r\t",
  "null",
  "__proto__",
  "constructor",
  "-leading",
  "%00",
  "Ａ全角",
];
/** Path segments that are not names or ids: bad percent-escapes, overlong UTF-8, lone surrogates, traversal, sheer length. */
const ODD_SEGMENTS = [
  "%ZZ",
  "%",
  "%E0%A4%A",
  "%ED%A0%80",
  "%C0%AF",
  "%00",
  "%FF%FE",
  "a%2Fb",
  "%2e%2e",
  "x".repeat(65),
  "x".repeat(3_000),
  "%F0%9F%98%80",
  "%20",
  "%u0041",
  "a%0Ab",
  "%22%3E%3Cscript%3E",
  "..%2F..%2Fetc",
  "-",
  "_",
  "ü",
  "%EF%BB%BF",
];
/** Values of the wrong type for almost any field. */
const WRONG_VALUES: unknown[] = [
  null,
  true,
  false,
  -1,
  0.5,
  1.5e308,
  -1.5e308,
  2 ** 53 + 2,
  "",
  "x",
  "1",
  [],
  [1, 2, 3],
  {},
  { nested: { deeper: [null] } },
  "a".repeat(10_000),
  "\ud800",
];
/** The same for CBOR, which can also carry what JSON cannot. */
const WRONG_CBOR_VALUES: unknown[] = [
  ...WRONG_VALUES,
  2n ** 70n,
  -(2n ** 64n),
  NaN,
  Infinity,
  -Infinity,
  undefined,
  new Date(0),
  new Map([[1, 2]]),
  new Set([1]),
  new Float64Array(2),
  new Uint8Array(3),
];

function oddString(rng: Rng): string {
  return rng.pick(ODD_STRINGS);
}

/** An odd string that is neither a valid name nor a valid method name ("null" or "constructor" would be both). */
function badName(rng: Rng): string {
  return rng.pick(ODD_STRINGS.filter((s) => !/^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/.test(s) && !/^[A-Za-z_$][A-Za-z0-9_$]{0,63}$/.test(s)));
}

function json(value: unknown): string {
  return JSON.stringify(value);
}

/** JSON text that does not parse: cut short, stray bytes, a BOM in front of broken JSON, deep nesting. */
function brokenJson(rng: Rng, valid: string): string {
  switch (rng.int(8)) {
    case 0:
      return valid.slice(0, Math.max(1, rng.int(valid.length - 1)));
    case 1:
      return valid + "}";
    case 2:
      return "\ufeff" + valid.slice(0, -1);
    case 3:
      return "{".repeat(1 + rng.int(50_000));
    case 4:
      return "[".repeat(100_000) + "]".repeat(100_000);
    case 5:
      return new TextDecoder("latin1").decode(rng.bytes(1 + rng.int(300)));
    case 6:
      return valid.replace(/"/g, "'");
    default:
      return "NaN";
  }
}

/** Bytes that are not one CBOR value: cut short, reserved initial bytes, a stray break, an unterminated indefinite-length item, trailing junk. */
function brokenCbor(rng: Rng, valid: Uint8Array): Uint8Array {
  switch (rng.int(7)) {
    case 0:
      return valid.slice(0, Math.max(1, rng.int(valid.length - 1)));
    case 1:
      return Uint8Array.of(rng.pick([0x1c, 0x1d, 0x1e, 0x3c, 0x5c, 0x7c, 0x9c, 0xbc, 0xdc, 0xfc, 0xff]), ...rng.bytes(rng.int(20)));
    case 2:
      return Uint8Array.of(0x9f, 0x01, 0x02); // indefinite array, no break
    case 3:
      return Uint8Array.of(0x5b, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00); // a byte string claiming 2^64 bytes
    case 4:
      return Uint8Array.of(0x9b, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x00); // an array claiming 2^36 items
    case 5:
      return new Uint8Array(0);
    default:
      return Uint8Array.of(...Array.from({ length: 20_000 }, () => 0x81), 0x00); // 20 000 nested arrays
  }
}

// ---- per-route generators ----------------------------------------------------

interface Fixture {
  token: string;
  adminSecret: string;
  functionId: string;
  classId: string;
  classParams: string;
  callId: string;
  deploymentId: string;
  cookie: string;
}

type Gen = (rng: Rng, f: Fixture) => Omit<Spec, "route">;

const args = encode([1]);

function auth(f: Fixture, extra: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${f.token}`, ...extra };
}

/** Credentials that are not a workspace token. */
function badAuth(rng: Rng, f: Fixture): Record<string, string> {
  return rng.pick<Record<string, string>>([
    {},
    { authorization: "" },
    { authorization: "Bearer" },
    { authorization: "Bearer " + "x".repeat(10_000) },
    { authorization: `Basic ${btoa("user:pass")}` },
    { authorization: `Bearer ${f.token}x` },
    { authorization: `Bearer ${f.token.slice(0, -2)}` },
    { authorization: `Bearer sqc_ws-00_${"0".repeat(64)}` },
    { authorization: `Bearer ${f.adminSecret}` },
    { authorization: "Bearer ünï" },
    { authorization: `Token ${f.token}` },
  ]);
}

function badFunctionId(rng: Rng): string {
  return rng.pick([() => "fn-" + "0".repeat(70), () => "fn-does-not-exist", () => rng.pick(ODD_SEGMENTS), () => "%F0%9F%98%80".repeat(20)])();
}

function badCallId(rng: Rng, f: Fixture): string {
  return rng.pick([
    () => "not-a-call",
    () => f.callId.toUpperCase(),
    () => f.callId + "0",
    () => f.callId.replace(/^fc-[0-9a-f]{8}/, "fc-zzzzzzzz"),
    () => mintCallId("f".repeat(64), Date.now()), // the right shape, but no pool's id
    () => mintCallId("0".repeat(64), Date.now()),
    () => rng.pick(ODD_SEGMENTS),
    () => "fc-" + "a".repeat(300),
  ])();
}

function badAppName(rng: Rng): string {
  return rng.pick([
    () => rng.pick(ODD_SEGMENTS),
    () => encodeURIComponent(rng.pick(ODD_STRINGS.filter((s) => s !== "\ud800" && s !== "\udfff\ud800"))) || "%20",
  ])();
}

/** A query value that is not a cursor, a wait, a limit or an offset. */
function badNumber(rng: Rng): string {
  return rng.pick(["-1", "1e400", "abc", "9007199254740993", "0x10", "1.5", "", "Infinity", "NaN", "-0.1", "99999999999999999999", "%00", "１２"]);
}

/** Instance params that are not base64url, or too long. */
function badParams(rng: Rng): string {
  return rng.pick(["a+b", "a/b", "==", "ü", "%00", "x".repeat(8_193), "a b", "*"]);
}

/** A JSON route's body, malformed one way or another; `valid` is a body that would be accepted. */
function malformedJsonBody(rng: Rng, f: Fixture, valid: unknown, invalids: unknown[]): { headers: Record<string, string>; body: BodyInit; note: string } {
  const kind = rng.int(6);
  if (kind === 0) return { headers: auth(f, { "content-type": "application/json" }), body: brokenJson(rng, json(valid)), note: "broken JSON" };
  if (kind === 1) {
    return {
      headers: auth(
        f,
        rng.pick<Record<string, string>>([
          {},
          { "content-type": "text/plain" },
          { "content-type": "application/cbor" },
          { "content-type": "application/x-www-form-urlencoded" },
          { "content-type": "multipart/form-data; boundary=x" },
        ]),
      ),
      body: rng.chance(0.5) ? json(valid) : (encode(valid) as BodyInit),
      note: "a valid body with the wrong content type",
    };
  }
  return { headers: auth(f, { "content-type": "application/json" }), body: json(rng.pick(invalids)), note: "a well-formed JSON body with the wrong contents" };
}

/** A CBOR route's body, malformed; `valid` would be accepted, `mutate` makes a wrong variant of it. */
function malformedCborBody(
  rng: Rng,
  f: Fixture,
  valid: Record<string, unknown>,
  mutate: (rng: Rng, v: Record<string, unknown>) => unknown,
): { headers: Record<string, string>; body: BodyInit; note: string } {
  const kind = rng.int(6);
  if (kind === 0) return { headers: auth(f, { "content-type": "application/cbor" }), body: brokenCbor(rng, encode(valid)) as BodyInit, note: "broken CBOR" };
  if (kind === 1) {
    return {
      headers: auth(
        f,
        rng.pick<Record<string, string>>([
          {},
          { "content-type": "application/json" },
          { "content-type": "text/plain" },
          { "content-type": "application/octet-stream" },
        ]),
      ),
      body: rng.chance(0.5) ? (encode(valid) as BodyInit) : json({ ...valid, inputs: [] }),
      note: "a valid body with the wrong content type",
    };
  }
  if (kind === 2) return { headers: auth(f, { "content-type": "application/cbor" }), body: encode(rng.pick(WRONG_CBOR_VALUES)) as BodyInit, note: "not a map" };
  return { headers: auth(f, { "content-type": "application/cbor" }), body: encode(mutate(rng, structuredClone(valid))) as BodyInit, note: "a wrong field" };
}

/** Changes an input list so that no call could take it. */
function wrongInputs(rng: Rng, v: Record<string, unknown>, remote: boolean): unknown {
  const input = () => ({ idx: 0, args });
  switch (rng.int(10)) {
    case 0:
      v.inputs = rng.pick(WRONG_CBOR_VALUES.filter((x) => !Array.isArray(x)));
      break;
    case 1:
      v.inputs = [{ ...input(), idx: rng.pick([-1, 0.5, 2 ** 53, 2n ** 64n, "0", null, NaN, Infinity, -Infinity]) }];
      break;
    case 2:
      v.inputs = [{ ...input(), args: rng.pick(WRONG_CBOR_VALUES.filter((x) => !(x instanceof Uint8Array))) }];
      break;
    case 3:
      v.inputs = [{ idx: 0 }];
      break;
    case 4:
      v.inputs = Array.from({ length: 1_001 }, (_, idx) => ({ idx, args }));
      break;
    case 5:
      v.inputs = [input(), input()]; // the same idx twice
      break;
    case 6:
      v.inputs = [{ idx: 0, args: new Uint8Array(2_000_001) }];
      break;
    case 7:
      v.inputs = remote ? [] : [input(), { idx: 1, args: "text" }];
      break;
    case 8:
      // A computed key: a literal `__proto__:` would set the prototype and never be encoded.
      v.inputs = [{ ...input(), ["__proto__"]: { polluted: true } }, "not an input"];
      break;
    default:
      v.inputs = [rng.pick(WRONG_CBOR_VALUES)];
  }
  return v;
}

const ROUTES: Record<string, Gen[]> = {
  "GET /v1/health": [(rng) => ({ method: rng.pick(["POST", "PUT", "DELETE", "PATCH"]), path: "/v1/health", headers: {}, note: "wrong method" })],
  "GET /v1/openapi.json": [(rng) => ({ method: rng.pick(["POST", "PUT", "DELETE", "PATCH"]), path: "/v1/openapi.json", headers: {}, note: "wrong method" })],
  "POST /v1/workspaces": [
    (rng, f) => ({
      method: "POST",
      path: "/v1/workspaces",
      headers: { ...badAuth(rng, { ...f, adminSecret: f.token }), "content-type": "application/json" },
      body: json({ name: "ok" }),
      note: "not the admin secret",
    }),
    (rng, f) => {
      const b = malformedJsonBody(rng, { ...f, token: f.adminSecret }, { name: "fine" }, [
        {},
        { name: "" },
        { name: "a".repeat(65) },
        { name: 5 },
        { name: null },
        [],
        "name",
        { Name: "x" },
      ]);
      return { method: "POST", path: "/v1/workspaces", ...b };
    },
  ],
  "POST /v1/tokens": [(rng, f) => ({ method: "POST", path: "/v1/tokens", headers: badAuth(rng, f), note: "not a token" })],
  "GET /v1/apps": [
    (rng, f) => ({ method: "GET", path: "/v1/apps", headers: badAuth(rng, f), note: "not a token" }),
    (rng, f) => ({ method: rng.pick(["PUT", "PATCH", "DELETE"]), path: "/v1/apps", headers: auth(f), note: "wrong method" }),
  ],
  "POST /v1/apps/{app}/deployments": [
    (rng, f) => {
      const valid = { manifest: { name: APP, functions: [{ name: "fn", kind: "function", options: { maxContainers: 2 } }] }, bundle: "export const x = 1;" };
      const invalids = [
        { ...valid, manifest: { ...valid.manifest, name: "other" } },
        { ...valid, manifest: undefined },
        { ...valid, bundle: undefined },
        { ...valid, bundle: "" },
        { ...valid, bundle: 42 },
        { ...valid, ephemeral: "yes" },
        { ...valid, manifest: { ...valid.manifest, functions: [] } },
        { ...valid, manifest: { ...valid.manifest, functions: "fn" } },
        { ...valid, manifest: { ...valid.manifest, functions: [{ name: badName(rng), kind: "function", options: {} }] } },
        { ...valid, manifest: { ...valid.manifest, functions: [{ name: "fn", kind: rng.pick(["lambda", "", 1, null]), options: {} }] } },
        {
          ...valid,
          manifest: {
            ...valid.manifest,
            functions: [
              { name: "fn", kind: "function", options: rng.pick(WRONG_VALUES.filter((v) => typeof v !== "object" || v === null || Array.isArray(v))) },
            ],
          },
        },
        {
          ...valid,
          manifest: {
            ...valid.manifest,
            functions: [
              {
                name: "fn",
                kind: "function",
                options: rng.pick([
                  { bogus: 1 },
                  { minContainers: 5, maxContainers: 1 },
                  { timeoutMs: -5 },
                  { scaledownWindowMs: 1e12 },
                  { concurrent: "x" },
                  { retries: -1 },
                  { maxContainers: rng.pick([0, -1, 1.5, "2", Infinity, 10_000]) },
                  { schedule: { type: "cron", expression: oddString(rng), timezone: "UTC" } },
                  { schedule: { type: "cron", expression: "* * * * *", timezone: oddString(rng) || "Nowhere/Else" } },
                  { scalingSchedule: [{ cron: "x", set: {} }] },
                ]),
              },
            ],
          },
        },
        { ...valid, manifest: { ...valid.manifest, functions: [valid.manifest.functions[0], valid.manifest.functions[0]] } },
        { ...valid, manifest: { ...valid.manifest, functions: [{ name: "C", kind: "class", options: {} }] } },
        { ...valid, manifest: { ...valid.manifest, functions: [{ name: "C", kind: "class", options: {}, methods: [badName(rng)] }] } },
        { ...valid, manifest: { ...valid.manifest, functions: Array.from({ length: 501 }, (_, i) => ({ name: `f${i}`, kind: "function", options: {} })) } },
        ...WRONG_VALUES,
      ];
      return { method: "POST", path: `/v1/apps/${APP}/deployments`, ...malformedJsonBody(rng, f, valid, invalids) };
    },
    (rng, f) => ({
      method: "POST",
      path: `/v1/apps/${badAppName(rng)}/deployments`,
      headers: auth(f, { "content-type": "application/json" }),
      body: json({ manifest: { name: APP, functions: [{ name: "fn", kind: "function", options: {} }] }, bundle: "x" }),
      note: "a bad app name in the path",
    }),
    (rng, f) => ({
      method: "POST",
      path: `/v1/apps/${APP}/deployments`,
      headers: { ...badAuth(rng, f), "content-type": "application/json" },
      body: "{}",
      note: "not a token",
    }),
  ],
  "POST /v1/apps/{app}/stop": [
    (rng, f) => ({ method: "POST", path: `/v1/apps/${badAppName(rng)}/stop`, headers: auth(f), note: "a bad app name" }),
    (rng, f) => ({ method: "POST", path: `/v1/apps/${APP}/stop`, headers: badAuth(rng, f), note: "not a token" }),
  ],
  "DELETE /v1/apps/{app}": [
    (rng, f) => ({ method: "DELETE", path: `/v1/apps/${badAppName(rng)}`, headers: auth(f), note: "a bad app name" }),
    (rng, f) => ({ method: "DELETE", path: `/v1/apps/${APP}`, headers: badAuth(rng, f), note: "not a token" }),
  ],
  "GET /v1/apps/{app}/functions/{name}": [
    (rng, f) => ({
      method: "GET",
      path: `/v1/apps/${rng.chance(0.5) ? APP : badAppName(rng)}/functions/${badAppName(rng)}`,
      headers: auth(f),
      note: "bad names",
    }),
    (rng, f) => ({ method: "GET", path: `/v1/apps/${APP}/functions/fn`, headers: badAuth(rng, f), note: "not a token" }),
  ],
  "GET /v1/apps/{app}/schedules": [
    (rng, f) => ({ method: "GET", path: `/v1/apps/${badAppName(rng)}/schedules`, headers: auth(f), note: "a bad app name" }),
    (rng, f) => ({ method: "GET", path: `/v1/apps/${APP}/schedules`, headers: badAuth(rng, f), note: "not a token" }),
  ],
  "POST /v1/functions/{functionId}/calls": [
    (rng, f) => {
      const valid = { kind: "remote", inputs: [{ idx: 0, args }], closed: true, waitMs: 0 };
      const b = malformedCborBody(rng, f, valid, (r, v) => {
        switch (r.int(9)) {
          case 0:
            v.kind = r.pick(["batch", "", "REMOTE", 1, null, "spawn"]);
            return v;
          case 1:
            delete v.kind;
            return v;
          case 2:
            v.closed = r.pick([undefined, "yes", 1, null]);
            return v;
          case 3:
            v.waitMs = r.pick([-1, 60_001, 1.5, "10", 2n ** 80n, Infinity, NaN]);
            return v;
          case 4:
            v.method = r.pick(["m", "x".repeat(65), 5, null]);
            return v;
          case 5:
            v.params = r.pick([encode({ a: 1 }), "params", 7]);
            return v;
          case 6:
            return { ...v, closed: false }; // a remote call is closed
          default:
            return wrongInputs(r, v, true);
        }
      });
      return { method: "POST", path: `/v1/functions/${f.functionId}/calls`, ...b };
    },
    (rng, f) => ({
      method: "POST",
      path: `/v1/functions/${badFunctionId(rng)}/calls`,
      headers: auth(f, { "content-type": "application/cbor" }),
      body: encode({ kind: "remote", inputs: [{ idx: 0, args }], closed: true }) as BodyInit,
      note: "a bad function id",
    }),
    (rng, f) => ({
      method: "POST",
      path: `/v1/functions/${f.classId}/calls`,
      headers: auth(f, { "content-type": "application/cbor" }),
      body: encode(
        rng.pick([
          { kind: "remote", inputs: [{ idx: 0, args }], closed: true, method: "m" }, // no params
          { kind: "remote", inputs: [{ idx: 0, args }], closed: true, params: encode({ v: 1 }) }, // no method
          { kind: "remote", inputs: [{ idx: 0, args }], closed: true, params: encode({ v: 1 }), method: "nope" }, // no such method
        ]),
      ) as BodyInit,
      note: "a class called wrongly",
    }),
    (rng, f) => ({
      method: "POST",
      path: `/v1/functions/${f.functionId}/calls`,
      headers: { ...badAuth(rng, f), "content-type": "application/cbor" },
      body: encode({}) as BodyInit,
      note: "not a token",
    }),
  ],
  "POST /v1/calls/outputs": [
    (rng, f) => {
      const b = malformedCborBody(rng, f, { callIds: [f.callId], waitMs: 0 }, (r, v) => {
        switch (r.int(6)) {
          case 0:
            v.callIds = r.pick(WRONG_CBOR_VALUES.filter((x) => !Array.isArray(x)));
            return v;
          case 1:
            v.callIds = [];
            return v;
          case 2:
            v.callIds = Array.from({ length: 1_001 }, () => f.callId);
            return v;
          case 3:
            v.callIds = [f.callId, r.pick([5, null, {}, [], "x".repeat(201), new Uint8Array(2)])];
            return v;
          case 4:
            v.waitMs = r.pick([-1, 60_001, 1.5, "10", 2n ** 80n, Infinity, NaN, null]);
            return v;
          default:
            delete v.callIds;
            return v;
        }
      });
      return { method: "POST", path: "/v1/calls/outputs", ...b };
    },
    (rng, f) => ({
      method: "POST",
      path: "/v1/calls/outputs",
      headers: { ...badAuth(rng, f), "content-type": "application/cbor" },
      body: encode({ callIds: [f.callId] }) as BodyInit,
      note: "not a token",
    }),
  ],
  "POST /v1/functions/{functionId}/spawns": [
    (rng, f) => {
      const b = malformedCborBody(rng, f, { inputs: [{ idx: 0, args }] }, (r, v) => {
        if (r.chance(0.2)) return { ...v, method: r.pick(["m", 9]) };
        if (r.chance(0.2)) return { inputs: [] };
        return wrongInputs(r, v, false);
      });
      return { method: "POST", path: `/v1/functions/${f.functionId}/spawns`, ...b };
    },
    (rng, f) => ({
      method: "POST",
      path: `/v1/functions/${badFunctionId(rng)}/spawns`,
      headers: auth(f, { "content-type": "application/cbor" }),
      body: encode({ inputs: [{ idx: 0, args }] }) as BodyInit,
      note: "a bad function id",
    }),
  ],
  "GET /v1/functions/{functionId}/stats": [
    (rng, f) => ({ method: "GET", path: `/v1/functions/${badFunctionId(rng)}/stats`, headers: auth(f), note: "a bad function id" }),
    (rng, f) => ({
      method: "GET",
      path: `/v1/functions/${f.functionId}/stats?params=${rng.chance(0.5) ? f.classParams : badParams(rng)}`,
      headers: auth(f),
      note: "params on a function, or bad params",
    }),
    (rng, f) => ({
      method: "GET",
      path: `/v1/functions/${f.classId}/stats${rng.chance(0.5) ? "" : `?params=${badParams(rng)}`}`,
      headers: auth(f),
      note: "a class without (good) params",
    }),
    (rng, f) => ({ method: "GET", path: `/v1/functions/${f.functionId}/stats`, headers: badAuth(rng, f), note: "not a token" }),
  ],
  "GET /v1/functions/{functionId}/channel": [
    (rng, f) => ({ method: "GET", path: `/v1/functions/${f.functionId}/channel`, headers: auth(f), note: "not a WebSocket upgrade" }),
    (rng, f) => ({
      method: "GET",
      path: `/v1/functions/${badFunctionId(rng)}/channel`,
      headers: auth(f, { upgrade: "websocket" }),
      note: "a bad function id",
    }),
    (rng, f) => ({
      method: "GET",
      path: `/v1/functions/${f.classId}/channel${rng.chance(0.5) ? "" : `?params=${badParams(rng)}`}`,
      headers: auth(f, { upgrade: "websocket" }),
      note: "a class without (good) params",
    }),
    (rng, f) => ({ method: "GET", path: `/v1/functions/${f.functionId}/channel`, headers: { ...badAuth(rng, f), upgrade: "websocket" }, note: "not a token" }),
  ],
  "PATCH /v1/functions/{functionId}/autoscaler": [
    (rng, f) => {
      const invalids = [
        { minContainers: 3 },
        { maxContainers: 0 },
        { maxContainers: -1 },
        { bufferContainers: -1 },
        { scaledownWindowMs: 1 },
        { scaledownWindowMs: 1e12 },
        { minContainers: "1" },
        { minContainers: 1.5 },
        { minContainers: Infinity },
        { maxContainerz: 1 },
        { minContainers: 1, extra: true },
        JSON.parse('{"__proto__":{"polluted":1},"x":1}'),
        ...WRONG_VALUES.filter((v) => !(typeof v === "object" && v !== null && !Array.isArray(v) && Object.keys(v).length === 0)),
      ];
      return { method: "PATCH", path: `/v1/functions/${f.functionId}/autoscaler`, ...malformedJsonBody(rng, f, { minContainers: 1 }, invalids) };
    },
    (rng, f) => ({
      method: "PATCH",
      path: `/v1/functions/${rng.chance(0.5) ? badFunctionId(rng) : f.classId}/autoscaler${rng.chance(0.5) ? `?params=${badParams(rng)}` : ""}`,
      headers: auth(f, { "content-type": "application/json" }),
      body: json({ minContainers: 1 }),
      note: "a bad function id, or a class without (good) params",
    }),
  ],
  "GET /v1/functions/{functionId}/logs": [
    (rng, f) => ({
      method: "GET",
      path: `/v1/functions/${f.functionId}/logs?${rng.pick(["after", "limit"])}=${badNumber(rng)}${rng.chance(0.3) ? "&limit=1001" : ""}`,
      headers: auth(f),
      note: "a bad after or limit",
    }),
    (rng, f) => ({ method: "GET", path: `/v1/functions/${badFunctionId(rng)}/logs`, headers: auth(f), note: "a bad function id" }),
    (rng, f) => ({ method: "GET", path: `/v1/functions/${f.classId}/logs?params=${badParams(rng)}`, headers: auth(f), note: "bad params" }),
  ],
  "POST /v1/calls/{callId}/inputs": [
    (rng, f) => {
      const b = malformedCborBody(rng, f, { inputs: [{ idx: 7, args }], closed: false }, (r, v) => {
        if (r.chance(0.2)) return { ...v, closed: r.pick([undefined, "no", 0]) };
        if (r.chance(0.15)) return { ...v, method: "x".repeat(65) };
        return wrongInputs(r, v, false);
      });
      return { method: "POST", path: `/v1/calls/${f.callId}/inputs`, ...b };
    },
    (rng, f) => ({
      method: "POST",
      path: `/v1/calls/${badCallId(rng, f)}/inputs`,
      headers: auth(f, { "content-type": "application/cbor" }),
      body: encode({ inputs: [{ idx: 0, args }], closed: false }) as BodyInit,
      note: "a bad call id",
    }),
  ],
  "GET /v1/calls/{callId}/outputs": [
    (rng, f) => ({
      method: "GET",
      path: `/v1/calls/${f.callId}/outputs?${rng.chance(0.2) ? "waitMs=60001" : `${rng.pick(["cursor", "waitMs"])}=${badNumber(rng)}`}`,
      headers: auth(f),
      note: "a bad cursor or wait",
    }),
    (rng, f) => ({ method: "GET", path: `/v1/calls/${badCallId(rng, f)}/outputs`, headers: auth(f), note: "a bad call id" }),
    (rng, f) => ({ method: "GET", path: `/v1/calls/${f.callId}/outputs`, headers: badAuth(rng, f), note: "not a token" }),
  ],
  "GET /v1/calls/{callId}/stream": [
    (rng, f) => ({
      method: "GET",
      path: `/v1/calls/${f.callId}/stream?${rng.chance(0.2) ? "waitMs=60001" : `${rng.pick(["from", "waitMs"])}=${badNumber(rng)}`}`,
      headers: auth(f),
      note: "a bad index or wait",
    }),
    (rng, f) => ({ method: "GET", path: `/v1/calls/${badCallId(rng, f)}/stream`, headers: auth(f), note: "a bad call id" }),
    (rng, f) => ({ method: "GET", path: `/v1/calls/${f.callId}/stream`, headers: badAuth(rng, f), note: "not a token" }),
  ],
  "POST /v1/calls/{callId}/cancel": [
    (rng, f) => ({ method: "POST", path: `/v1/calls/${badCallId(rng, f)}/cancel`, headers: auth(f), note: "a bad call id" }),
    (rng, f) => ({ method: "POST", path: `/v1/calls/${f.callId}/cancel`, headers: badAuth(rng, f), note: "not a token" }),
  ],
  "GET /v1/internal/bundles/{deploymentId}": [
    (rng, f) => ({
      method: "GET",
      path: `/v1/internal/bundles/${rng.chance(0.5) ? f.deploymentId : rng.pick(ODD_SEGMENTS)}${rng.pick(["", "?container=", "?container=ct-1", `?container=${"x".repeat(65)}`, "?container=%00"])}`,
      headers: rng.pick<Record<string, string>>([
        {},
        { authorization: `Bearer ${f.token}` },
        { authorization: `Bearer ${"0".repeat(64)}` },
        { authorization: "Bearer" },
      ]),
      note: "no or a wrong container secret",
    }),
  ],
  "GET /dashboard/api/apps/:app": [
    // (The dashboard reads `since` with Number(), which takes "" and "0x10" too: harmless, so not asserted here.)
    (rng, f) => ({
      method: "GET",
      path: `/dashboard/api/apps/${APP}?since=${rng.pick(["-1", "1e400", "abc", "1.5", "Infinity", "NaN", "99999999999999999999", "%00"])}`,
      headers: { cookie: f.cookie },
      note: "a bad since",
    }),
    (rng, f) => ({ method: "GET", path: `/dashboard/api/apps/${badAppName(rng)}`, headers: { cookie: f.cookie }, note: "a bad app name" }),
    (rng) => ({
      method: "GET",
      path: `/dashboard/api/apps/${APP}`,
      headers: rng.pick<Record<string, string>>([{}, { cookie: "squall_session=sq_nope" }, { cookie: "squall_session=" }, { cookie: "a=b" }]),
      note: "not signed in",
    }),
  ],
  "PATCH /dashboard/api/functions/:functionId/autoscaler": [
    (rng, f) => {
      const b = malformedJsonBody(rng, f, { minContainers: 1 }, [{ minContainers: 3 }, { nope: 1 }, { maxContainers: "x" }, [], "x", 5, null]);
      return {
        method: "PATCH",
        path: `/dashboard/api/functions/${f.functionId}/autoscaler`,
        headers: { ...b.headers, cookie: f.cookie, origin: BASE, authorization: "" },
        body: b.body,
        note: b.note,
      };
    },
    (rng, f) => ({
      method: "PATCH",
      path: `/dashboard/api/functions/${rng.chance(0.5) ? badFunctionId(rng) : f.classId}/autoscaler${rng.chance(0.5) ? `?params=${badParams(rng)}` : ""}`,
      headers: { cookie: f.cookie, origin: BASE, "content-type": "application/json" },
      body: json({ minContainers: 1 }),
      note: "a bad function id, or a class without (good) params",
    }),
    (rng, f) => ({
      method: "PATCH",
      path: `/dashboard/api/functions/${f.functionId}/autoscaler`,
      headers: { ...rng.pick<Record<string, string>>([{}, { cookie: "squall_session=nope" }]), origin: BASE, "content-type": "application/json" },
      body: json({ minContainers: 1 }),
      note: "not signed in",
    }),
  ],
};

// ---- the run --------------------------------------------------------------------

async function send(spec: Spec): Promise<{ status: number; contentType: string; text: string }> {
  const headers = Object.fromEntries(Object.entries(spec.headers).filter(([, v]) => v !== ""));
  const res = await fetchWorker(new Request(`${BASE}${spec.path}`, { method: spec.method, headers, body: spec.body }));
  return { status: res.status, contentType: res.headers.get("content-type") ?? "", text: await res.text() };
}

async function apiJson<T>(f: Fixture, path: string): Promise<T> {
  const res = await fetchWorker(new Request(`${BASE}${path}`, { headers: auth(f) }));
  expect(res.status).toBe(200);
  return (await res.json()) as T;
}

/** What the workspace looks like: apps, a function's and a class instance's stats, a call's outputs, and D1's row counts. */
async function snapshot(f: Fixture): Promise<unknown> {
  const counts: Record<string, number> = {};
  for (const table of ["workspaces", "tokens", "apps", "deployments", "functions", "class_instances", "autoscaler_overrides", "schedules"]) {
    counts[table] = (await env.DB.prepare(`SELECT COUNT(*) AS n FROM ${table}`).first<{ n: number }>())!.n;
  }
  const outputs = await fetchWorker(new Request(`${BASE}/v1/calls/${f.callId}/outputs?waitMs=0`, { headers: auth(f) }));
  expect(outputs.status).toBe(200);
  return {
    apps: await apiJson(f, "/v1/apps"),
    functionStats: await apiJson(f, `/v1/functions/${f.functionId}/stats`),
    instanceStats: await apiJson(f, `/v1/functions/${f.classId}/stats?params=${f.classParams}`),
    lookup: await apiJson(f, `/v1/apps/${APP}/functions/fn`),
    callOutputs: [...new Uint8Array(await outputs.arrayBuffer())],
    counts,
  };
}

describe("malformed input", () => {
  let fixture: Fixture;

  beforeAll(async () => {
    const adminSecret = "test-admin-secret";
    const ws = await fetchWorker(
      new Request(`${BASE}/v1/workspaces`, {
        method: "POST",
        headers: { authorization: `Bearer ${adminSecret}`, "content-type": "application/json" },
        body: json({ name: "malformed" }),
      }),
    );
    const { token } = (await ws.json()) as { token: string };
    const deployed = await fetchWorker(
      new Request(`${BASE}/v1/apps/${APP}/deployments`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: json({
          manifest: {
            name: APP,
            functions: [
              { name: "fn", kind: "function", options: { maxContainers: 2 } },
              { name: "Cls", kind: "class", options: {}, methods: ["m"] },
            ],
          },
          bundle: "export const x = 1;",
        }),
      }),
    );
    expect(deployed.status).toBe(201);
    const d = (await deployed.json()) as { deploymentId: string; functions: Array<{ name: string; functionId: string }> };
    const functionId = d.functions.find((x) => x.name === "fn")!.functionId;
    const classId = d.functions.find((x) => x.name === "Cls")!.functionId;
    const paramsBytes = encode({ v: 1 });
    const classParams = btoa(String.fromCharCode(...paramsBytes))
      .replace(/\+/g, "-")
      .replace(/\//g, "_")
      .replace(/=+$/, "");
    // An open map call with no inputs: a real call id whose state stays put (no input, so no container is ever started).
    const created = await fetchWorker(
      new Request(`${BASE}/v1/functions/${functionId}/calls`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/cbor" },
        body: encode({ kind: "map", inputs: [], closed: false }) as BodyInit,
      }),
    );
    expect(created.status).toBe(200);
    const { decode } = await import("../../sdk/src/wire/serialization");
    const { callId } = decode<{ callId: string }>(new Uint8Array(await created.arrayBuffer()));
    // The class instance's pool exists once it is called.
    const onInstance = await fetchWorker(
      new Request(`${BASE}/v1/functions/${classId}/calls`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/cbor" },
        body: encode({ kind: "map", method: "m", params: paramsBytes, inputs: [], closed: false }) as BodyInit,
      }),
    );
    expect(onInstance.status).toBe(200);
    fixture = { token, adminSecret, functionId, classId, classParams, callId, deploymentId: d.deploymentId, cookie: `squall_session=${token}` };
  });

  it("covers every route the Worker serves under /v1 and /dashboard/api", () => {
    const served = createApi()
      .routes.filter((r) => (r.path.startsWith("/v1/") || r.path.startsWith("/dashboard/api/")) && r.method !== "ALL")
      .map((r) => `${r.method} ${r.path.startsWith("/v1/") ? r.path.replace(/:(\w+)/g, "{$1}") : r.path}`);
    // A new route needs malformed requests of its own here.
    expect([...new Set(served)].sort()).toEqual(Object.keys(ROUTES).sort());
  });

  it(`answers ${PER_ROUTE} seeded malformed requests per route with a 4xx JSON error, never a 5xx, and changes nothing`, async () => {
    const before = await snapshot(fixture);
    const rng = prng(SEED);
    const specs: Spec[] = [];
    for (const [route, gens] of Object.entries(ROUTES)) {
      for (let i = 0; i < PER_ROUTE; i++) specs.push({ route, ...rng.pick(gens)(rng, fixture) });
    }
    // Oversized bodies, one per route that takes a body (each is 32 MiB, so only a few).
    for (const [route, path, method, type] of [
      ["POST /v1/apps/{app}/deployments", `/v1/apps/${APP}/deployments`, "POST", "application/json"],
      ["POST /v1/functions/{functionId}/calls", `/v1/functions/${fixture.functionId}/calls`, "POST", "application/cbor"],
      ["POST /v1/calls/{callId}/inputs", `/v1/calls/${fixture.callId}/inputs`, "POST", "application/cbor"],
    ] as const) {
      specs.push({ route, method, path, headers: auth(fixture, { "content-type": type }), body: new Uint8Array(32 * 1024 * 1024 + 1), note: "over 32 MiB" });
    }
    expect(specs.length).toBeGreaterThanOrEqual(1_000);

    const failures: string[] = [];
    const statuses = new Map<number, number>();
    // A few at a time: quick, and concurrent requests meet each other in the pools as they would in production.
    for (let i = 0; i < specs.length; i += 8) {
      const batch = specs.slice(i, i + 8);
      const answers = await Promise.all(batch.map((s) => send(s).catch((err: Error) => ({ status: -1, contentType: "", text: `threw ${err.message}` }))));
      answers.forEach((a, j) => {
        const s = batch[j];
        statuses.set(a.status, (statuses.get(a.status) ?? 0) + 1);
        const what = `${s.route} [${s.note}] ${s.method} ${s.path.slice(0, 120)} -> ${a.status} ${a.text.slice(0, 200)}`;
        if (a.status < 400 || a.status > 499) return void failures.push(what);
        if (!a.contentType.startsWith("application/json")) return void failures.push(`${what} (content-type ${a.contentType})`);
        let body: { error?: { code?: unknown; message?: unknown } };
        try {
          body = JSON.parse(a.text);
        } catch {
          return void failures.push(`${what} (not JSON)`);
        }
        if (typeof body.error?.code !== "string" || typeof body.error?.message !== "string" || !body.error.message)
          failures.push(`${what} (not the error shape)`);
        if (a.text.includes(fixture.token) || a.text.includes(fixture.adminSecret)) failures.push(`${what} (echoes a secret)`);
      });
    }
    console.log(`malformed input: ${specs.length} requests, statuses ${JSON.stringify(Object.fromEntries([...statuses].sort()))}`);
    expect(failures, failures.slice(0, 30).join("\n")).toEqual([]);
    expect(statuses.get(429) ?? 0).toBe(0); // the rate limit never stood in for a real answer
    // Decoding hostile bodies polluted nothing.
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(await snapshot(fixture)).toEqual(before);
  }, 240_000);
});
