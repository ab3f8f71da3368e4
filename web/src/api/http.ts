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
  if (response.status === 401) onUnauthenticated();
  return new ApiError(response.status, type, message);
}

/** Send a request; JSON in and out. Writes carry the CSRF header. */
export async function request<T>(
  method: "GET" | "POST" | "PUT" | "PATCH" | "DELETE",
  url: string,
  body?: unknown,
  signal?: AbortSignal,
): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (method !== "GET") {
    const token = csrfToken();
    if (token) headers[CSRF_HEADER] = token;
  }
  const response = await fetch(url, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? null : JSON.stringify(body),
    signal: signal ?? null,
  });
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
