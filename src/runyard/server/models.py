"""Request and response bodies of the native API (the contract with the HTTP client)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from runyard.core.entities import NewRun, RunDocument, RunError, RunFilter
from runyard.core.status import Status


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CreateRuns(_Body):
    """Runs to create in one transaction (create_children sends up to 100)."""

    runs: list[NewRun] = Field(min_length=1, max_length=1000)


class SearchRuns(_Body):
    """A run search: the filter, a page size and the token of the page wanted."""

    filter: RunFilter = Field(default_factory=RunFilter)
    limit: int = Field(default=100, ge=1, le=10_000)
    page_token: str | None = Field(default=None, max_length=64)


class RunPage(BaseModel):
    """One page of runs and the token of the next page (None on the last)."""

    runs: list[RunDocument]
    next_page_token: str | None = None


class UpdateRun(_Body):
    """Mutable descriptive fields; absent ones are left as they are."""

    display_name: str | None = Field(default=None, max_length=256)
    description: str | None = Field(default=None, max_length=5000)
    run_definition: dict[str, Any] | None = None


class ChangeStatus(_Body):
    """A status to move a run to, with the error for Failed."""

    status: Status
    error: RunError | None = None


class StatusAnswer(BaseModel):
    """The run's status after the change."""

    status: Status


class SetTags(_Body):
    """Tags to add or overwrite; a null value is a tag without a value."""

    tags: dict[str, str | None]


class RemoveTags(_Body):
    """Tag keys to delete."""

    keys: list[str] = Field(max_length=1000)


class AddProperties(_Body):
    """Properties to add (write-once)."""

    properties: dict[str, str]


class LogParams(_Body):
    """Params to log (write-once, MLflow's limits)."""

    params: dict[str, str]


class Rename(_Body):
    """The experiment's new name."""

    name: str


class Archive(_Body):
    """Whether the experiment is archived."""

    archived: bool


class IngestAnswer(BaseModel):
    """What a points request did: stored, or recognised as a retry of a stored batch."""

    stored: bool
    points: int


class LogLines(_Body):
    """Lines to append to a log stream."""

    lines: list[str] = Field(max_length=100_000)


class FileList(BaseModel):
    """Names of a run's files."""

    files: list[str]


class StoredFile(BaseModel):
    """The name a file was stored under."""

    name: str


class ErrorDetail(BaseModel):
    """What went wrong: the error's class name and a message saying what is allowed."""

    type: str
    message: str


class ErrorBody(BaseModel):
    """The body of every error answer."""

    error: ErrorDetail


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in (
        (400, "The request's values are invalid or past a limit"),
        (401, "An API token is needed and was missing or invalid"),
        (403, "The token does not reach this workspace or its role is too weak"),
        (404, "No such experiment, run, model, file or snapshot in this workspace"),
        (409, "Contradicts what is stored (a property's value, an illegal status change)"),
        (413, "The body is past the server's size cap"),
        (415, "The body's Content-Type is not one this route reads"),
        (421, "The Host header does not name this server (see --allowed-host)"),
        (422, "The request is malformed (JSON, types, missing fields)"),
        (431, "The request's headers are past the server's size cap"),
    )
}

POINTS_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["batches"],
                    "properties": {
                        "key": {"type": ["string", "null"], "minLength": 1, "maxLength": 64},
                        "batches": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["name", "kind", "values", "times"],
                                "properties": {
                                    "name": {"type": "string"},
                                    "kind": {"type": "string"},
                                    "column": {"type": "string"},
                                    "description": {"type": "string"},
                                    "steps": {"type": ["array", "null"]},
                                    "values": {"type": "array"},
                                    "times": {"type": "array", "items": {"type": "number"}},
                                },
                            },
                        },
                    },
                }
            },
            "application/vnd.runyard.points": {"schema": {"type": "string", "format": "binary"}},
        },
    }
}

FILE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {"application/octet-stream": {"schema": {"type": "string", "format": "binary"}}},
    }
}


class RegisterModel(_Body):
    """A new version of a model: a copy of a run's file or folder (`run_id` and `path`),
    or of files uploaded under `upload_key` (PUT /model-uploads/{upload_key}/files/…)."""

    run_id: str | None = Field(default=None, max_length=255)
    path: str | None = Field(default=None, max_length=1024)
    upload_key: str | None = Field(default=None, max_length=32)
    description: str | None = Field(default=None, max_length=5000)
    model_framework: str | None = Field(default=None, max_length=255)
    model_framework_version: str | None = Field(default=None, max_length=255)
    tags: dict[str, str | None] = Field(default_factory=dict)
    properties: dict[str, str] = Field(default_factory=dict)
