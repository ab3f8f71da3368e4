"""Reading request bodies with a size cap, so a huge upload is refused, not buffered."""

from __future__ import annotations

import os
import tempfile

from fastapi import Request

from runyard.core.errors import PayloadTooLargeError

#: Largest points request (a client sends far smaller batches).
MAX_POINTS_BODY = 256 * 1024 * 1024
#: Largest single file upload.
MAX_FILE_BODY = int(os.environ.get("RUNYARD_MAX_UPLOAD_BYTES", str(5 * 1024**3)))


async def read_body(request: Request, max_bytes: int) -> bytes:
    """The whole body, refusing it once it passes `max_bytes`."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLargeError(f"request body of {declared} bytes; the limit is {max_bytes}")
    chunks = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > max_bytes:
            raise PayloadTooLargeError(f"request body past {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def spool_body(request: Request, max_bytes: int) -> str:
    """Stream the body into a temporary file (the caller deletes it); returns its path."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLargeError(
            f"file upload past {max_bytes} bytes (the limit): {declared} bytes declared"
        )
    handle, path = tempfile.mkstemp(prefix="runyard-upload-")
    size = 0
    try:
        with os.fdopen(handle, "wb") as out:
            async for chunk in request.stream():
                size += len(chunk)
                if size > max_bytes:
                    raise PayloadTooLargeError(f"file upload past {max_bytes} bytes")
                out.write(chunk)
    except BaseException:
        os.unlink(path)
        raise
    return path
