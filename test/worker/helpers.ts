import { SELF } from "cloudflare:test";
import { encode, decode } from "../../sdk/src/wire/serialization";

export const BASE = "http://squall.test";

export async function newWorkspace(name = "test"): Promise<string> {
  const res = await SELF.fetch(`${BASE}/v1/workspaces`, {
    method: "POST",
    headers: { authorization: "Bearer test-admin-secret", "content-type": "application/json" },
    body: JSON.stringify({ name }),
  });
  if (res.status !== 201) throw new Error(`workspace: ${res.status} ${await res.text()}`);
  return ((await res.json()) as { token: string }).token;
}

export function api(token: string) {
  const headers = { authorization: `Bearer ${token}` };
  return {
    get: (path: string) => SELF.fetch(`${BASE}${path}`, { headers }),
    json: (method: string, path: string, body: unknown) =>
      SELF.fetch(`${BASE}${path}`, { method, headers: { ...headers, "content-type": "application/json" }, body: JSON.stringify(body) }),
    cbor: (path: string, body: unknown) =>
      SELF.fetch(`${BASE}${path}`, { method: "POST", headers: { ...headers, "content-type": "application/cbor" }, body: encode(body) }),
  };
}

export const BUNDLE = `export const nothing = 1;`;

export function manifest(name: string, functions: Array<{ name: string; options?: Record<string, unknown>; kind?: "function" | "class"; methods?: string[] }>) {
  return {
    name,
    functions: functions.map((f) => ({ name: f.name, kind: f.kind ?? "function", options: f.options ?? {}, ...(f.methods ? { methods: f.methods } : {}) })),
  };
}

export async function deploy(token: string, m: ReturnType<typeof manifest>): Promise<Response> {
  return api(token).json("POST", `/v1/apps/${m.name}/deployments`, { manifest: m, bundle: BUNDLE });
}

export async function errorOf(res: Response): Promise<{ code: string; message: string }> {
  const body = (await res.json()) as { error: { code: string; message: string } };
  return body.error;
}

export async function cborOf<T>(res: Response): Promise<T> {
  return decode<T>(new Uint8Array(await res.arrayBuffer()));
}
