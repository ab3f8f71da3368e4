/** Who the browser is signed in as: `/api/v1/session` (sign in with a token, sign out). */
import { request } from "./http";

export type Role = "reader" | "contributor" | "owner";

export interface Session {
  auth_required: boolean;
  authenticated: boolean;
  via: "cookie" | "bearer" | "none";
  workspaces: { name: string; role: Role }[];
  version: string;
  csrf_header: string;
  csrf_cookie: string;
}

export const getSession = (): Promise<Session> => request<Session>("GET", "/api/v1/session");

/** Trade a token for an HttpOnly session cookie; 401 when the token is unknown. */
export const signIn = (token: string): Promise<Session> =>
  request<Session>("POST", "/api/v1/session", { token });

export const signOut = (): Promise<undefined> => request<undefined>("DELETE", "/api/v1/session");

/** Whether a role may change runs (tags, description, cancel). */
export function canWrite(role: Role | undefined): boolean {
  return role === "contributor" || role === "owner";
}
