"""The studio: the built web app (`web/` → `studio_dist/`), served at `/` beside the API.

Client-side routes live in the query string and path, so every non-API GET that is not a
built file answers `index.html`. Hashed assets are cached forever, `index.html` never (so a
new build is picked up at once); a `.gz` copy written by the build is sent to browsers that
accept gzip. Without a build (an editable install) `/` says how to make one.
"""

from __future__ import annotations

import mimetypes
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from runyard.server.errors import error_body

STUDIO_DIST = Path(__file__).parent / "studio_dist"
IMMUTABLE = "public, max-age=31536000, immutable"
#: The studio loads only its own scripts; user data can never become script (a second wall
#: behind rendering every user string as text). uPlot sets inline styles.
STUDIO_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
_PAGE_HEADERS = {
    "Content-Security-Policy": STUDIO_CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}
NOT_BUILT = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>runyard studio: not built</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 3em auto">
<h1>The runyard studio is not built</h1>
<p>This runyard was installed from source without building its web UI. Build it with</p>
<pre>make ui</pre>
<p>(or <code>cd web &amp;&amp; npm ci &amp;&amp; npm run build</code>), then reload this page.
The API works without it: <a href="/docs">/docs</a>.</p>
</body></html>
"""


def _file_answer(path: Path, request: Request, cache: str) -> Response:
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    if path.suffix in (".js", ".mjs"):
        media_type = "text/javascript"
    headers = {"Cache-Control": cache, "Vary": "Accept-Encoding", **_PAGE_HEADERS}
    compressed = path.with_name(path.name + ".gz")
    if "gzip" in request.headers.get("accept-encoding", "") and compressed.is_file():
        headers["Content-Encoding"] = "gzip"
        return FileResponse(compressed, media_type=media_type, headers=headers)
    return FileResponse(path, media_type=media_type, headers=headers)


def mount_studio(app: FastAPI, dist: Path = STUDIO_DIST) -> None:
    """Serve the built studio at `/` (after every API route, which keep precedence)."""
    root = dist.resolve()

    @app.api_route("/{path:path}", methods=["GET", "HEAD"], include_in_schema=False)
    async def studio(request: Request, path: str) -> Response:
        if path == "api" or path.startswith("api/"):
            message = f"no API route {request.url.path!r}; see /docs"
            return JSONResponse(error_body("NotFoundError", message), status_code=404)
        index = root / "index.html"
        if not index.is_file():
            return HTMLResponse(NOT_BUILT, headers={"Cache-Control": "no-cache"})
        if path:
            wanted = (root / path).resolve()
            if wanted.is_relative_to(root) and wanted.is_file() and wanted.suffix != ".gz":
                immutable = wanted.parent == root / "assets"
                return _file_answer(wanted, request, IMMUTABLE if immutable else "no-cache")
        return _file_answer(index, request, "no-cache")
