import itertools

import pytest

from runyard.core.errors import ConflictError, InvalidStatusTransitionError, ValidationError
from runyard.core.status import TERMINAL, TRANSITIONS, Status, check_transition, parse_status


@pytest.mark.parametrize("final", sorted(TERMINAL))
def test_terminal_status_cannot_change(final: Status) -> None:
    for other in Status:
        if other is not final:
            with pytest.raises(InvalidStatusTransitionError, match=final.value):
                check_transition(final, other)


def test_same_status_is_a_no_op() -> None:
    assert check_transition(Status.COMPLETED, Status.COMPLETED) is False


def test_submitted_run_walks_the_whole_life_cycle() -> None:
    path = [
        Status.NOT_STARTED,
        Status.QUEUED,
        Status.PREPARING,
        Status.STARTING,
        Status.RUNNING,
        Status.FINALIZING,
        Status.COMPLETED,
    ]
    for current, new in itertools.pairwise(path):
        assert check_transition(current, new) is True


def test_not_responding_run_can_come_back() -> None:
    assert check_transition(Status.RUNNING, Status.NOT_RESPONDING)
    assert check_transition(Status.NOT_RESPONDING, Status.RUNNING)


def test_error_lists_the_allowed_next_statuses() -> None:
    with pytest.raises(InvalidStatusTransitionError) as info:
        check_transition(Status.FINALIZING, Status.RUNNING)
    assert "Completed" in str(info.value) and "Canceled" in str(info.value)


def test_every_status_has_a_row_in_the_table() -> None:
    assert set(TRANSITIONS) == set(Status)


def test_unknown_status_name_is_refused_with_the_valid_names() -> None:
    with pytest.raises(ValidationError, match="NotStarted") as refused:
        parse_status("Done")
    # Bad input (400), not a conflict with the run's state (409).
    assert not isinstance(refused.value, ConflictError)
    assert refused.value.http_status == 400
