// Which workspace a token speaks for: the API's bearer tokens and the dashboard's sessions ask the same question.
import type { Env } from "../env";
import { db, workspaceForToken } from "../db/queries";
import { hashToken, signingKey, workspaceOfContainerToken } from "../auth/crypto";

/** Token lookups are cached per isolate briefly: a hot path should not read D1 for every request. */
const TOKEN_CACHE_MS = 30_000;
const tokenCache = new Map<string, { workspaceId: string; expiresAtMs: number }>();
/**
 * SHA-256 of the tokens this isolate has seen: a digest is ~0.1 ms of the
 * request's CPU, and a client sends the same token with every call. Bounded
 * like the workspace cache; it only saves work, never decides anything.
 */
const hashCache = new Map<string, string>();

async function hashOf(token: string): Promise<string> {
  const known = hashCache.get(token);
  if (known) return known;
  const hash = await hashToken(token);
  if (hashCache.size > 10_000) hashCache.clear();
  hashCache.set(token, hash);
  return hash;
}

/** The workspace a workspace token or a container token speaks for, or null. Shared by the API and the dashboard. */
export async function workspaceOfToken(env: Env, token: string): Promise<string | null> {
  return (await resolveToken(env, token))?.workspaceId ?? null;
}

/** The token's workspace and its SHA-256 (the key it is known by: tokens themselves are never kept). */
export async function resolveToken(env: Env, token: string): Promise<{ workspaceId: string; hash: string } | null> {
  const hash = await hashOf(token);
  if (token.startsWith("sqc_")) {
    const workspaceId = await workspaceOfContainerToken(signingKey(env), token);
    return workspaceId ? { workspaceId, hash } : null;
  }
  const now = Date.now();
  const cached = tokenCache.get(hash);
  if (cached && cached.expiresAtMs >= now) return { workspaceId: cached.workspaceId, hash };
  const workspaceId = await workspaceForToken(db(env.DB), hash);
  if (!workspaceId) {
    tokenCache.delete(hash);
    return null;
  }
  if (tokenCache.size > 10_000) tokenCache.clear();
  tokenCache.set(hash, { workspaceId, expiresAtMs: now + TOKEN_CACHE_MS });
  return { workspaceId, hash };
}
