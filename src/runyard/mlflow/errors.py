"""MLflow's error answers: `{"error_code": ..., "message": ...}` with MLflow's HTTP statuses."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from runyard.core.errors import (
    AuthenticationError,
    ConflictError,
    ImmutablePropertyError,
    InvalidStatusTransitionError,
    NotFoundError,
    PermissionDeniedError,
    RunyardError,
    ValidationError,
)

_STATUS = {
    "RESOURCE_DOES_NOT_EXIST": 404,
    "ENDPOINT_NOT_FOUND": 404,
    "INVALID_PARAMETER_VALUE": 400,
    "RESOURCE_ALREADY_EXISTS": 400,
    "INVALID_STATE": 400,
    "BAD_REQUEST": 400,
    "MALFORMED_REQUEST": 400,
    "UNAUTHENTICATED": 401,
    "PERMISSION_DENIED": 403,
    "TEMPORARILY_UNAVAILABLE": 503,
    "NOT_IMPLEMENTED": 501,
    "INTERNAL_ERROR": 500,
}


class MlflowError(Exception):
    """An error to answer in MLflow's shape with one of MLflow's error codes."""

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code
        self.message = message

    @property
    def http_status(self) -> int:
        """MLflow's HTTP status for the code."""
        return _STATUS.get(self.error_code, 500)


def invalid(message: str) -> MlflowError:
    """INVALID_PARAMETER_VALUE: what MLflow answers to malformed or oversized input."""
    return MlflowError("INVALID_PARAMETER_VALUE", message)


def from_runyard(exc: RunyardError) -> MlflowError:
    """The MLflow error code of a runyard error (a changed param is a bad parameter there)."""
    if isinstance(exc, NotFoundError):
        return MlflowError("RESOURCE_DOES_NOT_EXIST", str(exc))
    if isinstance(exc, (ValidationError, ImmutablePropertyError)):
        return MlflowError("INVALID_PARAMETER_VALUE", str(exc))
    if isinstance(exc, InvalidStatusTransitionError):
        return MlflowError("INVALID_STATE", str(exc))
    if isinstance(exc, ConflictError):
        return MlflowError("RESOURCE_ALREADY_EXISTS", str(exc))
    if isinstance(exc, AuthenticationError):
        return MlflowError("UNAUTHENTICATED", str(exc))
    if isinstance(exc, PermissionDeniedError):
        return MlflowError("PERMISSION_DENIED", str(exc))
    if exc.http_status == 503:
        return MlflowError("TEMPORARILY_UNAVAILABLE", str(exc))
    return MlflowError("INTERNAL_ERROR", str(exc))


def error_response(exc: MlflowError) -> JSONResponse:
    """The HTTP answer MLflow's clients parse into an MlflowException with the same code."""
    return JSONResponse(
        {"error_code": exc.error_code, "message": exc.message}, status_code=exc.http_status
    )
