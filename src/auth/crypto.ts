// Tokens and per-container secrets. Tokens are random and long, so a plain
// SHA-256 is a safe way to store them; container secrets are HMACs, so the
// Worker can check one without asking the pool.
const encoder = new TextEncoder();

export function hex(bytes: ArrayBuffer | Uint8Array): string {
  return [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

/** SHA-256 of text or bytes, in hex. */
export async function sha256Hex(data: string | BufferSource): Promise<string> {
  return hex(await crypto.subtle.digest("SHA-256", typeof data === "string" ? encoder.encode(data) : data));
}

export function randomId(prefix: string, bytes = 12): string {
  return `${prefix}${hex(crypto.getRandomValues(new Uint8Array(bytes)))}`;
}

/** A workspace token: `sq_` + 32 random bytes in hex. */
export function newToken(): string {
  return randomId("sq_", 32);
}

export async function hashToken(token: string): Promise<string> {
  return sha256Hex(token);
}

async function hmac(key: string, message: string): Promise<string> {
  const k = await crypto.subtle.importKey("raw", encoder.encode(key), { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
  return hex(await crypto.subtle.sign("HMAC", k, encoder.encode(message)));
}

/** The secret one container uses for its pool connection and its bundle download. */
export function containerSecret(signingKey: string, deploymentId: string, containerId: string): Promise<string> {
  return hmac(signingKey, `container:${deploymentId}:${containerId}`);
}

export function timingSafeEqual(a: string, b: string): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a.charCodeAt(i) ^ b.charCodeAt(i);
  return diff === 0;
}

export function signingKey(env: { SQUALL_SIGNING_KEY?: string; SQUALL_ADMIN_SECRET?: string }): string {
  const key = env.SQUALL_SIGNING_KEY || env.SQUALL_ADMIN_SECRET;
  if (!key) throw new Error("the platform has no SQUALL_SIGNING_KEY secret (wrangler secret put SQUALL_SIGNING_KEY)");
  return key;
}

/**
 * A token for code running in containers: lets a function use the SDK
 * against its own platform (e.g. a scheduled function calling
 * updateAutoscaler). `sqc_<workspace id>_<HMAC>`, checked without D1.
 */
export async function containerToken(signingKey: string, workspaceId: string): Promise<string> {
  return `sqc_${workspaceId}_${await hmac(signingKey, `workspace:${workspaceId}`)}`;
}

/** The workspace a container token speaks for, or null if it is not one of ours. */
export async function workspaceOfContainerToken(signingKey: string, token: string): Promise<string | null> {
  const m = /^sqc_(ws-[0-9a-f]+)_([0-9a-f]{64})$/.exec(token);
  if (!m) return null;
  const expected = await containerToken(signingKey, m[1]);
  return timingSafeEqual(token, expected) ? m[1] : null;
}
