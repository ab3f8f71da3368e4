"""The child-run half of Run: in-process children, many at once, submitted children."""

from __future__ import annotations

import builtins
import getpass
import uuid
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from runyard.core.entities import NewRun, RunDocument, RunFilter
from runyard.core.errors import LimitExceededError, ValidationError
from runyard.core.limits import Limits, check_length
from runyard.core.names import validate_run_id
from runyard.core.status import Status, parse_status
from runyard.core.tags import validate_tags
from runyard.sdk.experiment import filter_dict, iterate_runs, submit_run

if TYPE_CHECKING:
    from runyard.client.base import Transport
    from runyard.client.pipeline import LoggingPipeline
    from runyard.sdk.experiment import Experiment
    from runyard.sdk.run import Run
    from runyard.sdk.script_run import ScriptRunConfig


class RunChildren:
    """Mixin of Run holding the child-run API; Run provides the attributes declared here."""

    _id: str
    _doc: RunDocument
    _experiment: Experiment
    _limits: Limits
    _pipeline: LoggingPipeline
    _transport: Transport

    def _new_child(
        self,
        run_id: str | None,
        display_name: str | None,
        tags: dict[str, str | None] | None = None,
    ) -> NewRun:
        if display_name is not None:
            check_length("display name", display_name, self._limits.max_display_name_length)
        return NewRun(
            run_id=validate_run_id(run_id) if run_id is not None else str(uuid.uuid4()),
            experiment_name=self._experiment.name,
            parent_run_id=self._id,
            status=Status.RUNNING,
            display_name=display_name,
            target=self._doc.target,
            run_type="child",
            submitted_by=getpass.getuser(),
            tags=tags or {},
        )

    def child_run(
        self, name: str | None = None, run_id: str | None = None, outputs: str | None = None
    ) -> Run:
        """Start a child run; as a context manager it completes (or fails) on exit."""
        doc = self._transport.store.create_runs([self._new_child(run_id, name)])[0]
        self._pipeline.watch(doc.run_id)
        return self._run_class()._from_document(self._experiment, doc)

    def create_children(
        self,
        count: int | None = None,
        tag_key: str | None = None,
        tag_values: Sequence[str] | None = None,
    ) -> list[Run]:
        """Create many child runs in one store call, optionally tagged `tag_key=value` each."""
        if tag_values is not None:
            if tag_key is None:
                raise ValidationError("create_children: tag_values needs a tag_key")
            if count is not None and count != len(tag_values):
                raise ValidationError(
                    f"create_children: count={count} but {len(tag_values)} tag values given"
                )
            count = len(tag_values)
        if count is None or count < 1:
            raise ValidationError("create_children needs count >= 1 or tag_values")
        limit = self._limits.max_children_per_call
        if count > limit:
            raise LimitExceededError(
                f"create_children: {count} children asked for; the limit is {limit} per call"
            )
        new = []
        for index in range(count):
            tags = None
            if tag_key is not None and tag_values is not None:
                tags = validate_tags({tag_key: tag_values[index]}, self._limits)
            new.append(self._new_child(None, None, tags))
        docs = self._transport.store.create_runs(new)
        return [self._run_class()._from_document(self._experiment, d) for d in docs]

    def submit_child(
        self, config: ScriptRunConfig, tags: dict[str, Any] | None = None, **_kwargs: Any
    ) -> Run:
        """Submit a script as a child of this run (e.g. one trial of a sweep)."""
        return submit_run(self._experiment, config, tags, parent_run_id=self._id)

    def get_children(
        self,
        recursive: bool = False,
        tags: object = None,
        properties: object = None,
        type: str | None = None,
        status: str | None = None,
        _rehydrate_runs: bool = True,
    ) -> Iterator[Run]:
        """The run's children (all descendants with `recursive`), newest first, filtered."""
        return iterate_runs(
            self._experiment,
            RunFilter(
                parent_run_id=self._id,
                recursive=recursive,
                tags=filter_dict("tags", tags),
                properties=filter_dict("properties", properties),
                status=None if status is None else parse_status(status),
            ),
        )

    @staticmethod
    def _run_class() -> builtins.type[Run]:
        from runyard.sdk.run import Run

        return Run
