"""One error hierarchy for the whole package; the server maps it to HTTP statuses in one place."""

from __future__ import annotations


class RunyardError(Exception):
    """Base of every error runyard raises on purpose."""

    #: HTTP status the server answers with when this error reaches a route.
    http_status = 500


class ValidationError(RunyardError, ValueError):
    """A value given to runyard is malformed: wrong type, empty, badly shaped."""

    http_status = 400


class LimitExceededError(ValidationError):
    """A value or a count is past one of the limits in `core.limits`."""

    http_status = 400


class PayloadTooLargeError(LimitExceededError):
    """A request body is past the server's size cap."""

    http_status = 413


class AuthenticationError(RunyardError):
    """No valid API token was presented to a server that requires one."""

    http_status = 401


class PermissionDeniedError(RunyardError):
    """The token is valid but does not reach this workspace, or its role is too weak."""

    http_status = 403


class NotFoundError(RunyardError, LookupError):
    """The experiment, run, metric or file asked for does not exist."""

    http_status = 404


class ConflictError(RunyardError):
    """The request contradicts what is already stored."""

    http_status = 409


class ImmutablePropertyError(ConflictError):
    """A property exists with another value; properties are written once."""


class InvalidStatusTransitionError(ConflictError):
    """The run cannot move from its current status to the one asked for."""


class StoreError(RunyardError):
    """The tracking store could not be opened or used (bad URL, unreachable server)."""

    http_status = 503


class TransportError(RunyardError):
    """The server could not be reached or failed; the request may be retried."""

    http_status = 503


class OfflineError(RunyardError):
    """The call needs the server, and this process runs in offline mode (RUNYARD_MODE)."""

    http_status = 503


class StoreUnavailableError(TransportError):
    """The database could not be reached or stayed locked; the call may be retried."""
