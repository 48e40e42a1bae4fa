// Dashboard sign-in: the workspace token itself, kept in an HttpOnly,
// SameSite=Strict cookie. Page scripts cannot read it, other sites cannot
// send it, and every request checks it exactly as the API checks a bearer
// token, so revoking a token signs its dashboard sessions out too.
import type { Context, MiddlewareHandler } from "hono";
import { deleteCookie, getCookie, setCookie } from "hono/cookie";
import type { AppEnv } from "../app-env";
import { workspaceOfToken } from "../control/tokens";
import { ApiError } from "../control/errors";

const COOKIE = "squall_session";
/** A sign-in lasts a week; the token behind it may be revoked sooner. */
const SESSION_SECONDS = 7 * 24 * 60 * 60;

function cookieOptions(c: Context<AppEnv>) {
  // Secure only over https: the local platform is plain http on 127.0.0.1.
  const secure = new URL(c.req.url).protocol === "https:";
  return { path: "/", httpOnly: true, sameSite: "Strict", secure } as const;
}

/** Signs in with a token; false when the token is not valid. */
export async function signIn(c: Context<AppEnv>, token: string): Promise<boolean> {
  if (!(await workspaceOfToken(c.env, token))) return false;
  setCookie(c, COOKIE, token, { ...cookieOptions(c), maxAge: SESSION_SECONDS });
  return true;
}

export function signOut(c: Context<AppEnv>): void {
  deleteCookie(c, COOKIE, cookieOptions(c));
}

/** The signed-in workspace (also set as the request's workspaceId), or null. */
export async function sessionWorkspace(c: Context<AppEnv>): Promise<string | null> {
  const token = getCookie(c, COOKIE);
  const workspaceId = token ? await workspaceOfToken(c.env, token) : null;
  if (workspaceId) c.set("workspaceId", workspaceId);
  return workspaceId;
}

/** For the dashboard's data routes: 401 in the API's error shape without a valid session. */
export const requireSession: MiddlewareHandler<AppEnv> = async (c, next) => {
  if (!(await sessionWorkspace(c))) throw new ApiError("UNAUTHENTICATED", "not signed in: sign in to the dashboard with a workspace token");
  await next();
};
