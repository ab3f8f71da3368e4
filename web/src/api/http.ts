/** The one way the studio talks to the server: same-origin fetch, JSON, CSRF on writes. */

/** An answer of the server that is not a success, with its error body's type and message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

/** Called when the server answers 401: the app shows the sign-in page. */
let onUnauthenticated: () => void = () => undefined;

export function setUnauthenticatedHandler(handler: () => void): void {
  onUnauthenticated = handler;
}

const CSRF_HEADER = "X-CSRF-Token";
const CSRF_COOKIE = "runyard_csrf";

/** The CSRF token the server set as a readable cookie at sign-in ("" when none). */
export function csrfToken(cookies: string = document.cookie): string {
  for (const part of cookies.split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name === CSRF_COOKIE) return decodeURIComponent(rest.join("="));
  }
  return "";
}

let workspace = "default";

/** The workspace every resource path is under (set once the session is known). */
export function setWorkspace(name: string): void {
  workspace = name;
}

/** `/api/v1/workspaces/{ws}` followed by a path whose parts are already encoded. */
export function wsPath(path: string): string {
  return `/api/v1/workspaces/${encodeURIComponent(workspace)}${path}`;
}

/** A run file name as URL path segments (each segment encoded, slashes kept). */
export function encodePath(name: string): string {
  return name.split("/").map(encodeURIComponent).join("/");
}

async function failure(response: Response): Promise<ApiError> {
  let type = "HTTPError";
  let message = `${response.status} ${response.statusText}`;
  try {
    const body = (await response.json()) as { error?: { type?: string; message?: string }; detail?: unknown };
    if (body.error) {
      type = body.error.type ?? type;
      message = body.error.message ?? message;
    } else if (body.detail !== undefined) {
      message = typeof body.detail === "string" ? body.detail : JSON.stringify(body.detail);
    }
  } catch {
    // not JSON: keep the status line
  }
  if (response.status === 401) {
    dropEarlyReads();
    onUnauthenticated();
  }
  return new ApiError(response.status, type, message);
}

export type Method = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

function send(method: Method, url: string, text: string | null, signal?: AbortSignal): Promise<Response> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (text !== null) headers["Content-Type"] = "application/json";
  if (method !== "GET") {
    const token = csrfToken();
    if (token) headers[CSRF_HEADER] = token;
  }
  return fetch(url, { method, headers, credentials: "same-origin", body: text, signal: signal ?? null });
}

/**
 * Reads the entry script starts before the app has rendered (the first data of the page
 * the URL names), each handed to the first identical request; unclaimed ones are dropped.
 */
const early = new Map<string, Promise<Response>>();
const EARLY_MS = 15_000;

const earlyKey = (method: Method, url: string, text: string | null): string => `${method} ${url}\n${text ?? ""}`;

/** Start a read now that a component will make later (reads only: GET, or a POST search). */
export function prefetch(method: "GET" | "POST", url: string, body?: unknown): Promise<Response> {
  const text = body === undefined ? null : JSON.stringify(body);
  const key = earlyKey(method, url, text);
  let started = early.get(key);
  if (!started) {
    started = send(method, url, text);
    // A failed read is the claimer's to report; unclaimed, it must not be "unhandled".
    started.catch(() => undefined);
    early.set(key, started);
    setTimeout(() => {
      if (early.get(key) === started) early.delete(key);
    }, EARLY_MS);
  }
  return started;
}

/** Forget every unclaimed early read (signed in or out since: their answers are stale). */
export function dropEarlyReads(): void {
  early.clear();
}

/** Send a request; JSON in and out. Writes carry the CSRF header. */
export async function request<T>(method: Method, url: string, body?: unknown, signal?: AbortSignal): Promise<T> {
  const text = body === undefined ? null : JSON.stringify(body);
  const key = earlyKey(method, url, text);
  const claimed = early.get(key);
  if (claimed) early.delete(key);
  const response = await (claimed ?? send(method, url, text, signal));
  if (!response.ok) throw await failure(response);
  if (response.status === 204) return undefined as T;
  return (await response.json()) as T;
}

export const get = <T>(url: string, signal?: AbortSignal): Promise<T> => request<T>("GET", url, undefined, signal);

/** A query string from defined parameters (arrays repeat the key). */
export function query(params: Record<string, string | number | boolean | null | undefined | string[]>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === null || value === undefined) continue;
    if (Array.isArray(value)) for (const v of value) search.append(key, v);
    else search.set(key, String(value));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}
