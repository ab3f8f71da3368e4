"""Reading request bodies with a size cap, so a huge upload is refused, not buffered.

The request gate (`gate.py`) already refuses bodies past their route's cap, declared or
streamed; these readers keep the same cap so a route is safe on its own too.
"""

from __future__ import annotations

import os
import tempfile

from fastapi import Request

from runyard.core.errors import PayloadTooLargeError
from runyard.server.config import ServerConfig

#: Temporary files of uploads being received: `runyard-upload-<server pid>-<random>`.
UPLOAD_PREFIX = "runyard-upload-"


def server_config(request: Request) -> ServerConfig:
    """The config of the server answering `request`."""
    config: ServerConfig = request.app.state.config
    return config


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
    """Stream the body into a temporary file (the caller deletes it); returns its path.

    The file name carries this process's id, so the leftovers of a killed server are told
    from the uploads of a live one (see `cleanup.py`)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > max_bytes:
        raise PayloadTooLargeError(
            f"file upload past {max_bytes} bytes (the limit): {declared} bytes declared"
        )
    handle, path = tempfile.mkstemp(prefix=f"{UPLOAD_PREFIX}{os.getpid()}-")
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
