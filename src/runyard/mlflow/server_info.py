"""MLflow 3's `/api/3.0/mlflow/server-info`: what clients ask before anything else (whether
the server has workspaces, multipart artifact transfers). No secrets, no login needed in
MLflow; runyard asks for a reader's token like every other route."""

from __future__ import annotations

from typing import Any

from runyard.core.roles import Role
from runyard.mlflow.endpoints import Access, route


@route("GET", "server-info", Role.READER, version="3.0")
def server_info(access: Access, body: dict[str, Any]) -> dict[str, Any]:
    return {
        "store_type": "SqlStore",
        # runyard's workspaces are URL prefixes the client needs no header for; MLflow's
        # workspace feature (a header per request) is off.
        "workspaces_enabled": False,
        "trace_archival_enabled": False,
        "multipart_uploads_enabled": False,
        "multipart_downloads_enabled": False,
        "presigned_upload_run_id_supported": False,
        "presigned_upload_model_id_supported": False,
        "features_enabled": {"gateway": False},
    }
