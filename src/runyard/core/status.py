"""Run statuses and the one table of transitions between them."""

from __future__ import annotations

from enum import StrEnum

from runyard.core.errors import InvalidStatusTransitionError, ValidationError


class Status(StrEnum):
    """The life-cycle states of a run, spelled as in Azure ML."""

    NOT_STARTED = "NotStarted"
    QUEUED = "Queued"
    PREPARING = "Preparing"
    STARTING = "Starting"
    RUNNING = "Running"
    FINALIZING = "Finalizing"
    CANCEL_REQUESTED = "CancelRequested"
    COMPLETED = "Completed"
    FAILED = "Failed"
    CANCELED = "Canceled"
    NOT_RESPONDING = "NotResponding"

    @property
    def is_terminal(self) -> bool:
        """True for the states a run never leaves."""
        return self in TERMINAL

    @property
    def is_active(self) -> bool:
        """True while the run is queued or working (not terminal, not yet started)."""
        return not self.is_terminal and self is not Status.NOT_STARTED


S = Status
TERMINAL = frozenset({S.COMPLETED, S.FAILED, S.CANCELED})
_ENDINGS = {S.CANCEL_REQUESTED, S.CANCELED, S.FAILED}

#: Where each status may go next. Terminal states go nowhere.
TRANSITIONS: dict[Status, frozenset[Status]] = {
    S.NOT_STARTED: frozenset(set(Status) - {S.NOT_STARTED, S.NOT_RESPONDING}),
    S.QUEUED: frozenset({S.PREPARING, S.STARTING, S.RUNNING, *_ENDINGS}),
    S.PREPARING: frozenset({S.STARTING, S.RUNNING, *_ENDINGS}),
    S.STARTING: frozenset({S.RUNNING, *_ENDINGS}),
    S.RUNNING: frozenset({S.FINALIZING, S.COMPLETED, S.NOT_RESPONDING, *_ENDINGS}),
    S.NOT_RESPONDING: frozenset({S.RUNNING, S.FINALIZING, S.COMPLETED, *_ENDINGS}),
    S.FINALIZING: frozenset({S.COMPLETED, S.FAILED, S.CANCELED}),
    # The script may finish on its own before the cancel reaches it.
    S.CANCEL_REQUESTED: frozenset({S.CANCELED, S.FAILED, S.COMPLETED, S.FINALIZING}),
    S.COMPLETED: frozenset(),
    S.FAILED: frozenset(),
    S.CANCELED: frozenset(),
}


def parse_status(value: str | Status) -> Status:
    """Turn a status name into a `Status`, with an error that lists the valid names.

    An unknown name is malformed input (400), not a conflict with the run's state (409).
    """
    try:
        return Status(value)
    except ValueError:
        allowed = ", ".join(s.value for s in Status)
        raise ValidationError(f"unknown run status {value!r}; allowed: {allowed}") from None


def check_transition(current: Status, new: Status) -> bool:
    """Check a move from `current` to `new`; False means "already there, nothing to do".

    Raises InvalidStatusTransitionError when the table forbids the move.
    """
    if current is new:
        return False
    if new not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(s.value for s in TRANSITIONS[current])) or "none (final)"
        raise InvalidStatusTransitionError(
            f"a run cannot go from {current.value} to {new.value}; from {current.value} it may "
            f"go to: {allowed}"
        )
    return True
