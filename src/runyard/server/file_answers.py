"""How the server hands out user files (run files, snapshot members) to a browser safely.

A file is user data: served as HTML it would run script in the studio's origin. Only images
get their own content type (so `<img>` shows them); everything else is an attachment, and
every answer forbids sniffing and runs sandboxed if opened directly (an SVG's script too).
"""

from __future__ import annotations

import posixpath
from collections.abc import Iterator
from typing import IO

from fastapi.responses import StreamingResponse
from pydantic import BaseModel

IMAGE_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".bmp": "image/bmp",
    ".svg": "image/svg+xml",
}
_SANDBOX = "sandbox; default-src 'none'; img-src 'self' data:; style-src 'unsafe-inline'"
MAX_PREVIEW = 1024 * 1024
_CHUNK = 1024 * 1024


class FilePreview(BaseModel):
    """The start of a file, as text when it is text, for an inline preview."""

    name: str
    size: int
    content_type: str
    kind: str
    text: str | None = None
    truncated: bool = False


class FileEntry(BaseModel):
    """A file and its size in bytes."""

    name: str
    size: int


class FileTree(BaseModel):
    """Every file under a run (or in a snapshot), sorted by name."""

    files: list[FileEntry]


def media_type(name: str) -> str:
    """The content type a file is served with: its image type, else a download."""
    return IMAGE_TYPES.get(posixpath.splitext(name)[1].lower(), "application/octet-stream")


def file_headers(name: str) -> dict[str, str]:
    """Headers that keep a served user file from running anything in the studio's origin."""
    headers = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": _SANDBOX}
    if media_type(name) == "application/octet-stream":
        base = posixpath.basename(name).replace('"', "_").replace("\\", "_")
        ascii_name = base.encode("ascii", "replace").decode().replace("?", "_")
        headers["Content-Disposition"] = f'attachment; filename="{ascii_name}"'
    return headers


def stream_file(handle: IO[bytes], name: str) -> StreamingResponse:
    """The file's bytes, streamed, with the safe headers; closes the handle at the end."""

    def chunks() -> Iterator[bytes]:
        with handle:
            while chunk := handle.read(_CHUNK):
                yield chunk

    return StreamingResponse(chunks(), media_type=media_type(name), headers=file_headers(name))


def preview(name: str, size: int, head: bytes, max_bytes: int) -> FilePreview:
    """A preview from the first `max_bytes` (+1, to know it was cut) bytes of a file."""
    content_type = media_type(name)
    if content_type.startswith("image/"):
        return FilePreview(name=name, size=size, content_type=content_type, kind="image")
    truncated = len(head) > max_bytes or size > max_bytes
    head = head[:max_bytes]
    if b"\0" in head[:8192]:
        return FilePreview(
            name=name, size=size, content_type=content_type, kind="binary", truncated=truncated
        )
    return FilePreview(
        name=name,
        size=size,
        content_type="text/plain; charset=utf-8",
        kind="text",
        text=head.decode("utf-8", errors="replace"),
        truncated=truncated,
    )
