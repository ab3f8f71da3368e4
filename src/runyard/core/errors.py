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
