"""Run: one execution of a training script or notebook, with its metrics, tags and files."""

from __future__ import annotations

import builtins
import logging
import os
import time
from collections.abc import Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from runyard.client.pipeline import flush_timeout
from runyard.core.entities import RunDocument, RunError
from runyard.core.errors import RunyardError, TransportError
from runyard.core.limits import check_length
from runyard.core.names import validate_run_id
from runyard.core.paths import run_prefix
from runyard.core.run_environment import ENV_RUN_ID
from runyard.core.status import Status
from runyard.core.tags import validate_params, validate_properties, validate_tags
from runyard.sdk.experiment import Experiment
from runyard.sdk.metric_checks import MetricChecks
from runyard.sdk.run_children import RunChildren
from runyard.sdk.run_files import RunFiles
from runyard.sdk.run_metrics import MetricLogging
from runyard.sdk.run_output import FramePrinter, portal_url
from runyard.sdk.workspace import Workspace

if TYPE_CHECKING:
    from runyard.sdk.model import Model
    from runyard.sdk.offline import OfflineRun

log = logging.getLogger("runyard")

ENV_EXPERIMENT = "RUNYARD_EXPERIMENT_NAME"


class Run(MetricLogging, RunFiles, RunChildren):
    """A run of an experiment. Get one from `exp.start_logging()`, `Run.get_context()`,
    `exp.get_runs()` or `Run(experiment, run_id)`."""

    def __init__(
        self, experiment: Experiment, run_id: str, outputs: str | None = None, **kwargs: Any
    ) -> None:
        doc = kwargs.pop("_document", None)
        if doc is None:
            doc = experiment.workspace.transport.store.get_run(validate_run_id(run_id))
        self._experiment = experiment
        self._id = doc.run_id
        self._doc: RunDocument = doc
        workspace = experiment.workspace
        self._transport, self._pipeline = workspace._connection()
        self._limits = workspace.limits
        self._checks = MetricChecks(self._limits)
        # The same set as the checker's: `log`'s fast path reads it without a call.
        self._scalar_names = self._checks.scalar_names

    @classmethod
    def _from_document(cls, experiment: Experiment, doc: RunDocument) -> Run:
        return cls(experiment, doc.run_id, _document=doc)

    @staticmethod
    def get(workspace: Workspace, run_id: str) -> Run:
        """The run with this id, whatever its experiment."""
        doc = workspace.transport.store.get_run(validate_run_id(run_id))
        return Run._from_document(Experiment(workspace, doc.experiment_name), doc)

    @classmethod
    def get_context(cls, allow_offline: bool = True, **_kwargs: Any) -> Run | OfflineRun:
        """The run this script was submitted as; outside a submitted script, an offline run
        that prints what it logs, so the same script runs anywhere."""
        run_id = os.environ.get(ENV_RUN_ID)
        if run_id:
            workspace = Workspace.from_env() or Workspace.from_config()
            return cls.get(workspace, run_id)
        if not allow_offline:
            raise RunyardError(
                f"not inside a submitted run ({ENV_RUN_ID} is not set); submit the script with "
                "exp.submit(...) or pass allow_offline=True"
            )
        from runyard.sdk.offline import OfflineRun

        return OfflineRun()

    # Identity
    @property
    def id(self) -> str:
        """The run id."""
        return self._id

    @property
    def experiment(self) -> Experiment:
        """The experiment the run belongs to."""
        return self._experiment

    @property
    def number(self) -> int:
        """The run's number within its experiment (1, 2, …)."""
        return self._doc.run_number

    @property
    def type(self) -> str:
        """interactive, script, or child."""
        return self._doc.run_type

    @property
    def display_name(self) -> str | None:
        """A name for people; defaults to None."""
        return self._refresh().display_name

    @display_name.setter
    def display_name(self, value: str) -> None:
        check_length("display name", value, self._limits.max_display_name_length)
        self._transport.store.update_run(self._id, display_name=value)

    @property
    def description(self) -> str | None:
        """A longer text about the run."""
        return self._refresh().description

    @description.setter
    def description(self, value: str) -> None:
        check_length("description", value, self._limits.max_description_length, allow_empty=True)
        self._transport.store.update_run(self._id, description=value)

    @property
    def parent(self) -> Run | None:
        """The parent run of a child run, None for a top-level run."""
        parent_id = self._doc.parent_run_id
        return None if parent_id is None else Run(self._experiment, parent_id)

    @property
    def tags(self) -> dict[str, str | None]:
        """The run's tags (a fresh copy)."""
        return self.get_tags()

    @property
    def properties(self) -> dict[str, str]:
        """The run's properties (a fresh copy)."""
        return self.get_properties()

    def _refresh(self) -> RunDocument:
        self._doc = self._transport.store.get_run(self._id)
        return self._doc

    def _artifact_prefix(self) -> str:
        return run_prefix(self._experiment.name, self._id)

    def _flush_for_read(self) -> None:
        left = self._pipeline.flush(flush_timeout())
        if left:
            log.warning("%d points of run %s are not written yet", left, self._id)
        self._pipeline.raise_errors(self._id)

    def flush(self, timeout_seconds: float | None = None) -> int:
        """Write what this process has queued; returns how many points are still queued."""
        left = self._pipeline.flush(flush_timeout() if timeout_seconds is None else timeout_seconds)
        self._pipeline.raise_errors(self._id)
        return left

    # Status
    def get_status(self) -> str:
        """The run's status (Running, Completed, …)."""
        return self._refresh().status.value

    def get_details(self) -> dict[str, Any]:
        """The run document: id, target, status, times, tags, properties, definition, logs."""
        details = self._refresh().to_json_dict()
        logs = self._transport.files.list_files(self._artifact_prefix(), "logs")
        details["logFiles"] = {name: name for name in logs}
        return details

    def document(self) -> dict[str, Any]:
        """The run document as last read (by a search page, say), without asking again."""
        return self._doc.to_json_dict()

    def get_details_with_logs(self) -> dict[str, Any]:
        """`get_details()` with the text of each log file instead of its name."""
        details = self.get_details()
        files = self._transport.files
        details["logFiles"] = {
            name: files.read_bytes(self._artifact_prefix(), name).decode(errors="replace")
            for name in details["logFiles"]
        }
        return details

    def _set_status(self, status: Status, error: RunError | None = None) -> None:
        self._transport.store.set_status(self._id, status, error)
        log.debug("run %s is now %s", self._id, status.value)

    def _end(self, status: Status, error: RunError | None = None) -> None:
        left = self._pipeline.flush(flush_timeout())
        if left:
            where = (
                "the spool keeps them; this process, the next runyard process or "
                "`runyard sync` uploads them"
                if self._pipeline.spool is not None
                else "this process keeps writing them until it exits"
            )
            log.warning(
                "run %s ends with %d metric points not yet stored: %s", self._id, left, where
            )
        try:
            # A server that is away gets the status through the spool, after the points.
            self._set_status(status, error)
        finally:
            self._pipeline.unwatch(self._id)
        self._pipeline.raise_errors(self._id)

    def start(self) -> None:
        """Mark a NotStarted run (e.g. from create_children) as Running."""
        self._set_status(Status.RUNNING)
        self._pipeline.watch(self._id)

    def complete(self, _set_status: bool = True) -> None:
        """Write what is queued and mark the run Completed."""
        if _set_status:
            self._end(Status.COMPLETED)
        else:
            self.flush()

    def fail(
        self, error_details: object = None, error_code: str | None = None, _set_status: bool = True
    ) -> None:
        """Mark the run Failed, with the error (an exception or a message) recorded.

        `_set_status=False` (Azure's) only writes what is queued and leaves the status."""
        if not _set_status:
            self.flush()
            return
        if isinstance(error_details, BaseException):
            message = f"{type(error_details).__name__}: {error_details}"
        else:
            message = "" if error_details is None else str(error_details)
        self._end(Status.FAILED, RunError(code=error_code or "UserError", message=message))

    def cancel(self) -> None:
        """Cancel the run: an interactive run ends Canceled at once; a submitted one is
        asked to stop, and its runner marks it Canceled."""
        if self._refresh().run_type == "interactive":
            self._end(Status.CANCELED)
        else:
            self._set_status(Status.CANCEL_REQUESTED)

    def wait_for_completion(
        self,
        show_output: bool = False,
        wait_post_processing: bool = False,
        raise_on_error: bool = True,
        timeout_seconds: float | None = None,
    ) -> dict[str, Any]:
        """Block until the run ends and return its details; with `show_output`, print its
        log lines as they arrive. Raises if it Failed and `raise_on_error`."""
        deadline = None if timeout_seconds is None else time.monotonic() + timeout_seconds
        printed: dict[str, int] = {}
        frame = FramePrinter(self._id, self.get_portal_url())
        if show_output:
            frame.header()
        follow = getattr(self._transport.store, "follow_logs", None)
        if show_output and follow is not None:
            # A server pushes the lines as they come; polling below is the fallback.
            seen: dict[str, int] = {}
            try:
                for line in follow(self._id, printed, deadline):
                    # follow_logs advances `printed` for the stream the line belongs to.
                    stream = next((s for s, n in printed.items() if seen.get(s) != n), "stdout")
                    seen[stream] = printed[stream]
                    frame.line(stream, line)
            except TransportError as exc:
                log.info("following run %s by polling: %s", self._id, exc)
        delay = 0.05
        while True:
            ended = self._refresh().status.is_terminal
            if show_output:
                self._print_new_lines(printed, frame)
            if ended:
                break
            if deadline is not None and time.monotonic() > deadline:
                raise RunyardError(
                    f"run {self._id} is still {self._doc.status.value} after {timeout_seconds} s"
                )
            time.sleep(delay)
            delay = min(delay * 1.5, 0.5)
        if show_output:
            frame.summary()
        if raise_on_error and self._doc.status is Status.FAILED:
            error = self._doc.error
            raise RunyardError(
                f"run {self._id} failed: {error.message if error else 'no error recorded'}"
            )
        return self.get_details()

    def get_portal_url(self) -> str | None:
        """The run's page in the studio (`<server>/?run=<id>`);
        None when the workspace has no server, as there is no page to show it on."""
        return portal_url(self._experiment.workspace.server_url, self._id)

    def _print_new_lines(self, printed: dict[str, int], frame: FramePrinter) -> None:
        """Print log lines not shown yet, stream by stream (stdout, stderr, …)."""
        store = self._transport.store
        for stream in store.list_log_streams(self._id):
            lines = store.read_log_lines(self._id, stream, printed.get(stream, -1))
            for line in lines:
                frame.line(stream, line.line)
            if lines:
                printed[stream] = lines[-1].seq

    def __enter__(self) -> Run:
        return self

    def __exit__(
        self,
        exc_type: builtins.type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self._refresh().status.is_terminal:
            self.flush()
            return
        if exc is not None:
            self.fail(exc, error_code="UserError")
        else:
            self.complete()

    # Tags and properties
    def tag(self, key: str, value: object = None) -> None:
        """Set a tag; a tag without a value is stored with value None."""
        self._transport.store.set_tags(self._id, validate_tags({key: value}, self._limits))

    def set_tags(self, tags: dict[str, object]) -> None:
        """Set several tags at once."""
        self._transport.store.set_tags(self._id, validate_tags(tags, self._limits))

    def remove_tags(self, tags: Sequence[str] | str) -> None:
        """Delete tags by key."""
        keys = [tags] if isinstance(tags, str) else list(tags)
        self._transport.store.remove_tags(self._id, keys)

    def get_tags(self) -> dict[str, str | None]:
        """The run's tags."""
        return dict(self._refresh().tags)

    def add_properties(self, properties: dict[str, object]) -> None:
        """Add write-once properties; changing an existing one raises ImmutablePropertyError."""
        self._transport.store.add_properties(
            self._id, validate_properties(properties, self._limits)
        )

    def get_properties(self) -> dict[str, str]:
        """The run's properties."""
        return dict(self._refresh().properties)

    # Params (MLflow's notion: write-once inputs such as hyperparameters)
    def log_param(self, key: str, value: object) -> None:
        """Record one param; logging another value for it raises ImmutablePropertyError."""
        self.log_params({key: value})

    def log_params(self, params: dict[str, object]) -> None:
        """Record several params at once (write-once, like properties but their own section)."""
        self._transport.store.log_params(self._id, validate_params(params, self._limits))

    def get_params(self) -> dict[str, str]:
        """The run's params."""
        return dict(self._refresh().params)

    # Models
    def register_model(
        self,
        model_name: str,
        model_path: str | None = None,
        tags: dict[str, Any] | None = None,
        properties: dict[str, Any] | None = None,
        model_framework: str | None = None,
        model_framework_version: str | None = None,
        description: str | None = None,
        datasets: Any = None,
        sample_input_dataset: Any = None,
        sample_output_dataset: Any = None,
        resource_configuration: Any = None,
        **kwargs: Any,
    ) -> Model:
        """Register a file or folder this run uploaded (`outputs/model.pkl`, `outputs`) as
        the next version of `model_name`; the version keeps its own copy of the files."""
        from runyard.sdk.model import register_run_model

        return register_run_model(
            self,
            model_name,
            model_path,
            tags,
            properties,
            model_framework,
            model_framework_version,
            description,
        )

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Run) and other._id == self._id

    def __hash__(self) -> int:
        return hash(self._id)

    def __repr__(self) -> str:
        return (
            f"Run(Experiment: {self._experiment.name},\nId: {self._id},\n"
            f"Type: {self._doc.run_type},\nStatus: {self._doc.status.value})"
        )
