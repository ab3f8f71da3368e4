import { afterEach, describe, expect, it, vi } from "vitest";
import { ApiError, csrfToken, encodePath, prefetch, query, request, setUnauthenticatedHandler } from "./http";
import { canWrite } from "./session";

describe("csrfToken", () => {
  it("reads the runyard_csrf cookie among others", () => {
    expect(csrfToken("a=1; runyard_csrf=abc%3D%3D; b=2")).toBe("abc==");
    expect(csrfToken("runyard_csrf=x")).toBe("x");
    expect(csrfToken("other=1")).toBe("");
    expect(csrfToken("")).toBe("");
  });
});

describe("paths and queries", () => {
  it("encodes each part of a file name but keeps its folders", () => {
    expect(encodePath("outputs/a b/#1?.txt")).toBe("outputs/a%20b/%231%3F.txt");
  });
  it("repeats array parameters and drops missing ones", () => {
    expect(query({ name: ["a", "b&c"], column: "", max: 5, skip: null, no: undefined })).toBe("?name=a&name=b%26c&column=&max=5");
    expect(query({})).toBe("");
  });
});

describe("request", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
    document.cookie = "runyard_csrf=; expires=Thu, 01 Jan 1970 00:00:00 GMT";
  });

  it("sends the CSRF header on writes only, same-origin credentials always", async () => {
    document.cookie = "runyard_csrf=tok123";
    const calls: RequestInit[] = [];
    vi.stubGlobal("fetch", (_url: string, init: RequestInit) => {
      calls.push(init);
      return Promise.resolve(new Response(null, { status: 204 }));
    });
    await request("PUT", "/x", { a: 1 });
    await request("GET", "/y");
    const headers = calls.map((c) => c.headers as Record<string, string>);
    expect(headers[0]?.["X-CSRF-Token"]).toBe("tok123");
    expect(headers[1]?.["X-CSRF-Token"]).toBeUndefined();
    expect(calls.every((c) => c.credentials === "same-origin")).toBe(true);
    expect(calls[0]?.body).toBe('{"a":1}');
  });

  it("turns an error body into an ApiError and reports 401 to the shell", async () => {
    let signedOut = 0;
    setUnauthenticatedHandler(() => (signedOut += 1));
    vi.stubGlobal("fetch", () =>
      Promise.resolve(new Response(JSON.stringify({ error: { type: "AuthenticationError", message: "token needed" } }), { status: 401 })),
    );
    const failure = await request("GET", "/z").catch((e: unknown) => e);
    expect(failure).toBeInstanceOf(ApiError);
    expect((failure as ApiError).type).toBe("AuthenticationError");
    expect((failure as ApiError).message).toBe("token needed");
    expect(signedOut).toBe(1);
  });
});

describe("early reads", () => {
  afterEach(() => vi.unstubAllGlobals());

  it("hands a prefetched read to the first identical request, once", async () => {
    const urls: string[] = [];
    vi.stubGlobal("fetch", (url: string, init: RequestInit) => {
      urls.push(`${init.method} ${url} ${String(init.body)}`);
      return Promise.resolve(new Response(JSON.stringify({ n: urls.length }), { status: 200 }));
    });
    prefetch("POST", "/api/t", { offset: 0, limit: 100 });
    prefetch("POST", "/api/t", { offset: 0, limit: 100 }); // started once
    expect(await request("POST", "/api/t", { offset: 0, limit: 100 })).toEqual({ n: 1 });
    // Claimed: the same request again goes to the server.
    expect(await request("POST", "/api/t", { offset: 0, limit: 100 })).toEqual({ n: 2 });
    // Another body is another request.
    prefetch("GET", "/api/s");
    expect(await request("POST", "/api/t", { offset: 100, limit: 100 })).toEqual({ n: 4 });
    expect(urls).toEqual([
      'POST /api/t {"offset":0,"limit":100}',
      'POST /api/t {"offset":0,"limit":100}',
      "GET /api/s null",
      'POST /api/t {"offset":100,"limit":100}',
    ]);
    expect(await request("GET", "/api/s")).toEqual({ n: 3 });
  });

  it("drops unclaimed early reads on a 401 (they were read signed out)", async () => {
    let calls = 0;
    vi.stubGlobal("fetch", () => {
      calls += 1;
      const status = calls === 2 ? 401 : 200;
      return Promise.resolve(new Response(JSON.stringify({ calls, error: { type: "AuthenticationError", message: "sign in" } }), { status }));
    });
    setUnauthenticatedHandler(() => undefined);
    prefetch("GET", "/api/table"); // call 1 (answered 200 but read while signed out)
    await request("GET", "/api/session").catch(() => undefined); // call 2: 401
    expect(await request("GET", "/api/table")).toMatchObject({ calls: 3 }); // read again
  });

  it("reports a prefetched failure to its claimer like any other", async () => {
    vi.stubGlobal("fetch", () =>
      Promise.resolve(new Response(JSON.stringify({ error: { type: "NotFoundError", message: "no run" } }), { status: 404 })),
    );
    prefetch("GET", "/api/run/x");
    const failure = await request("GET", "/api/run/x").catch((e: unknown) => e);
    expect((failure as ApiError).status).toBe(404);
    expect((failure as ApiError).message).toBe("no run");
  });
});

describe("canWrite", () => {
  it("lets contributors and owners change runs, not readers", () => {
    expect(canWrite("reader")).toBe(false);
    expect(canWrite("contributor")).toBe(true);
    expect(canWrite("owner")).toBe(true);
    expect(canWrite(undefined)).toBe(false);
  });
});
