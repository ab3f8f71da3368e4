"""Experiment: a named group of runs in a workspace."""

from __future__ import annotations

import getpass
import os
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from runyard.core.entities import ExperimentInfo, NewRun, RunFilter
from runyard.core.errors import ValidationError
from runyard.core.limits import check_length
from runyard.core.names import validate_experiment_name
from runyard.core.status import Status, parse_status
from runyard.core.tags import validate_properties, validate_tags
from runyard.sdk.workspace import Workspace

if TYPE_CHECKING:
    from runyard.sdk.run import Run
    from runyard.sdk.script_run import ScriptRunConfig


def filter_dict(what: str, value: object) -> dict[str, str | None]:
    """Azure's tag/property filters: a dict, a key (has it), or a list of keys."""
    if value is None:
        return {}
    if isinstance(value, str):
        return {value: None}
    if isinstance(value, dict):
        return {str(k): (None if v is None else str(v)) for k, v in value.items()}
    if isinstance(value, (list, tuple, set)):
        return {str(k): None for k in value}
    raise ValidationError(
        f"{what} filter must be a dict, a key or a list of keys, got {type(value).__name__}"
    )


def iterate_runs(experiment: Experiment, run_filter: RunFilter) -> Iterator[Run]:
    """Runs matching a filter, newest first, fetched a page at a time."""
    from runyard.sdk.run import Run

    store = experiment.workspace.transport.store
    token: str | None = None
    while True:
        docs, token = store.search_runs(run_filter, limit=100, page_token=token)
        for doc in docs:
            exp = (
                experiment
                if doc.experiment_name == experiment.name
                else Experiment(experiment.workspace, doc.experiment_name)
            )
            yield Run._from_document(exp, doc)
        if token is None:
            return


def submit_run(
    experiment: Experiment,
    config: ScriptRunConfig,
    tags: dict[str, Any] | None = None,
    parent_run_id: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Run:
    """Submit a script run of `experiment` (a child of `parent_run_id`, if given)."""
    # Loaded on first submit: snapshots and targets are not needed to log or read runs.
    from runyard.compute.submit import ScriptSubmission, submit_script
    from runyard.sdk.run import Run

    script, run_config, arguments = config.resolved()
    workspace = experiment.workspace
    submission = ScriptSubmission(
        experiment_name=experiment.name,
        source_directory=config.source_directory,
        script=script,
        arguments=arguments,
        target=run_config.target,
        environment=run_config.environment.to_dict(),
        max_run_duration_seconds=run_config.max_run_duration_seconds,
        environment_variables=dict(run_config.environment_variables),
        tags=tags or {},
        parent_run_id=parent_run_id,
    )
    doc = submit_script(
        workspace.transport, workspace.to_dict(), workspace.limits, submission, progress
    )
    return Run._from_document(experiment, doc)


class Experiment:
    """A named group of runs; created in the store with its first run."""

    def __init__(self, workspace: Workspace, name: str, **_kwargs: Any) -> None:
        self.workspace = workspace
        self.name = validate_experiment_name(name, workspace.limits.max_experiment_name_length)

    @property
    def id(self) -> int:
        """The experiment's number in the workspace (creates the experiment if needed)."""
        return self._info().experiment_id

    @property
    def archived(self) -> bool:
        """Whether the experiment is archived (hidden from `Experiment.list`)."""
        return self._info().archived

    def _info(self) -> ExperimentInfo:
        return self.workspace.transport.store.get_or_create_experiment(self.name)

    def start_logging(
        self,
        *args: Any,
        display_name: str | None = None,
        description: str | None = None,
        outputs: str | None = None,
        snapshot_directory: str | None = None,
        **kwargs: Any,
    ) -> Run:
        """Start an interactive run (status Running); end it with `complete()` or a `with`."""
        from runyard.compute.provenance import git_properties
        from runyard.sdk.run import Run

        limits = self.workspace.limits
        if display_name is not None:
            check_length("display name", display_name, limits.max_display_name_length)
        if description is not None:
            check_length(
                "description", description, limits.max_description_length, allow_empty=True
            )
        doc = self.workspace.transport.store.create_runs(
            [
                NewRun(
                    run_id=str(uuid.uuid4()),
                    experiment_name=self.name,
                    status=Status.RUNNING,
                    display_name=display_name,
                    description=description,
                    target="local",
                    run_type="interactive",
                    submitted_by=getpass.getuser(),
                    tags=validate_tags(kwargs.pop("tags", None) or {}, limits),
                    properties=validate_properties(
                        {
                            **git_properties(snapshot_directory or os.getcwd()),
                            **(kwargs.pop("properties", None) or {}),
                        },
                        limits,
                    ),
                )
            ]
        )[0]
        run = Run._from_document(self, doc)
        run._pipeline.watch(run.id)
        return run

    def submit(
        self,
        config: ScriptRunConfig,
        tags: dict[str, Any] | None = None,
        show_output: bool = False,
        progress: Callable[[int, int], None] | None = None,
        **_kwargs: Any,
    ) -> Run:
        """Submit a script as a run; returns it at once (status Queued) unless `show_output`,
        which prints its output live and returns when it ends. `progress(done, total)` is
        called as the source folder's snapshot is written (bytes)."""
        run = submit_run(self, config, tags, progress=progress)
        if show_output:
            run.wait_for_completion(show_output=True, raise_on_error=False)
        return run

    def get_runs(
        self,
        type: str | None = None,
        tags: object = None,
        properties: object = None,
        include_children: bool = False,
        status: str | None = None,
        include_deleted: bool = False,
    ) -> Iterator[Run]:
        """This experiment's runs, newest first, filtered by tags, properties and status.

        `tags` and `properties` take a dict (key: value, or key: None for "has key"), a
        key, or a list of keys. Runs deleted through MLflow are left out unless
        `include_deleted`.
        """
        return iterate_runs(
            self,
            RunFilter(
                experiment_name=self.name,
                tags=filter_dict("tags", tags),
                properties=filter_dict("properties", properties),
                include_children=include_children,
                status=None if status is None else parse_status(status),
                lifecycle="all" if include_deleted else "active",
            ),
        )

    def archive(self) -> None:
        """Hide the experiment from `Experiment.list`; its runs stay."""
        self._info()
        self.workspace.transport.store.set_experiment_archived(self.name, True)

    def reactivate(self, new_name: str | None = None) -> None:
        """Bring an archived experiment back."""
        self.workspace.transport.store.set_experiment_archived(self.name, False)

    @staticmethod
    def list(
        workspace: Workspace,
        experiment_name: str | None = None,
        view_type: str = "ActiveOnly",
    ) -> list[Experiment]:
        """The workspace's experiments (`view_type`: ActiveOnly, ArchivedOnly or All)."""
        if view_type not in ("ActiveOnly", "ArchivedOnly", "All"):
            raise ValidationError(
                f"view_type must be ActiveOnly, ArchivedOnly or All, got {view_type!r}"
            )
        infos = workspace.transport.store.list_experiments(
            include_archived=view_type != "ActiveOnly"
        )
        if view_type == "ArchivedOnly":
            infos = [i for i in infos if i.archived]
        if experiment_name is not None:
            infos = [i for i in infos if i.name == experiment_name]
        return [Experiment(workspace, i.name) for i in infos]

    def __eq__(self, other: object) -> bool:
        return (
            isinstance(other, Experiment)
            and other.name == self.name
            and other.workspace.store_url == self.workspace.store_url
        )

    def __hash__(self) -> int:
        return hash((self.name, self.workspace.store_url))

    def __repr__(self) -> str:
        return f"Experiment(Name: {self.name}, Workspace: {self.workspace.name})"
