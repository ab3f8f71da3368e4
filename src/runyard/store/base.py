"""The one interface every tracking store implements (SQL today; the HTTP client mirrors it)."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Sequence
from types import EllipsisType

from runyard.core.entities import (
    ExperimentInfo,
    LatestPoint,
    NewRun,
    RunDocument,
    RunError,
    RunFilter,
    RunInput,
)
from runyard.core.history import History
from runyard.core.limits import Limits
from runyard.core.log_lines import LogLine
from runyard.core.logged_models import LoggedModel, ModelLink
from runyard.core.metrics import MetricInfo, MetricSeries, PointBatch
from runyard.core.registry import (
    ModelFilter,
    ModelVersion,
    NewModelVersion,
    RegisteredModel,
    VersionOrigin,
)
from runyard.core.run_table import (
    RunState,
    RunTablePage,
    RunTableQuery,
    TableValues,
    TableValuesQuery,
)
from runyard.core.status import Status


class TrackingStore(ABC):
    """Runs, their metadata and their metric points. Every method is one transaction."""

    #: The limits the store enforces on what it is given (callers check early with them).
    limits: Limits

    # Experiments
    @abstractmethod
    def get_or_create_experiment(self, name: str) -> ExperimentInfo:
        """The experiment of that name, created if it does not exist yet."""

    @abstractmethod
    def get_experiment(self, name: str) -> ExperimentInfo:
        """The experiment of that name (NotFoundError if there is none)."""

    @abstractmethod
    def list_experiments(self, include_archived: bool = False) -> list[ExperimentInfo]:
        """Every experiment with its run counts and last activity, by name."""

    @abstractmethod
    def set_experiment_archived(self, name: str, archived: bool) -> None:
        """Archive an experiment (hidden from lists) or bring it back."""

    @abstractmethod
    def rename_experiment(self, name: str, new_name: str) -> None:
        """Give an experiment another name (ConflictError if that name is taken)."""

    # Runs
    @abstractmethod
    def create_runs(self, new_runs: Sequence[NewRun]) -> list[RunDocument]:
        """Create runs (and their experiment if needed) in one transaction."""

    @abstractmethod
    def get_run(self, run_id: str) -> RunDocument:
        """One run's document (NotFoundError if unknown)."""

    @abstractmethod
    def search_runs(
        self, run_filter: RunFilter, *, limit: int = 100, page_token: str | None = None
    ) -> tuple[list[RunDocument], str | None]:
        """One page of matching runs, newest first, and the token of the next page."""

    @abstractmethod
    def update_run(
        self,
        run_id: str,
        *,
        display_name: str | None = None,
        description: str | None = None,
        run_definition: dict[str, object] | None = None,
    ) -> None:
        """Change the mutable descriptive fields given (None leaves a field as it is)."""

    @abstractmethod
    def set_status(self, run_id: str, status: Status, error: RunError | None = None) -> Status:
        """Move a run to `status` if the transition table allows it; returns the new status."""

    @abstractmethod
    def heartbeat(self, run_id: str) -> None:
        """Record that the run's process is alive (a NotResponding run is Running again)."""

    # Tags and properties
    @abstractmethod
    def set_tags(self, run_id: str, tags: dict[str, str | None]) -> None:
        """Add or overwrite tags."""

    @abstractmethod
    def remove_tags(self, run_id: str, keys: Iterable[str]) -> None:
        """Delete tags; unknown keys are ignored."""

    @abstractmethod
    def add_properties(self, run_id: str, properties: dict[str, str]) -> None:
        """Add properties; ImmutablePropertyError if a key exists with another value."""

    @abstractmethod
    def log_params(self, run_id: str, params: dict[str, str]) -> None:
        """Add params; ImmutablePropertyError if a key exists with another value."""

    # Metrics
    @abstractmethod
    def log_points(
        self, run_id: str, batches: Sequence[PointBatch], idempotency_key: str | None = None
    ) -> bool:
        """Append metric points in bulk, all batches in one transaction.

        A batch whose idempotency key was stored before is skipped (returns False).
        """

    @abstractmethod
    def list_metrics(self, run_id: str) -> list[MetricInfo]:
        """The run's metric series with their counts and last values, in creation order."""

    @abstractmethod
    def get_metric_series(
        self, run_id: str, names: Sequence[str] | None = None, *, values_only: bool = False
    ) -> list[MetricSeries]:
        """Every point of the named metrics (all when None), in creation then step order.

        `values_only` leaves steps and times empty, for readers that need only values.
        """

    @abstractmethod
    def get_metric_history(
        self, run_id: str, name: str, column: str = "", max_points: int | None = None
    ) -> History:
        """A metric's points for a chart, downsampled to `max_points` buckets if longer."""

    @abstractmethod
    def get_metric_history_range(
        self,
        run_id: str,
        name: str,
        column: str,
        max_points: int | None,
        min_step: int | None,
        max_step: int | None,
    ) -> History:
        """A metric's chart points within a step range (a zoomed chart), bucketed past
        `max_points` like `get_metric_history`."""

    # The studio's runs table
    @abstractmethod
    def run_table(self, query: RunTableQuery) -> RunTablePage:
        """One page of an experiment's runs sorted by any column, with metric summaries and
        children counted by status."""

    @abstractmethod
    def run_table_values(self, query: TableValuesQuery) -> TableValues:
        """Distinct values of a field across an experiment's runs (for filter pickers)."""

    @abstractmethod
    def cancel_run(self, run_id: str) -> Status:
        """Cancel as `Run.cancel()` does: interactive runs end Canceled, submitted ones get
        CancelRequested (ConflictError once the run has ended)."""

    @abstractmethod
    def run_states(
        self, experiment: str, after_pk: int | None, watched: Sequence[int] = ()
    ) -> tuple[int, list[tuple[int, RunState]]]:
        """The server's feed of an experiment's status stream: the newest run's key, and
        the states of unended runs, runs newer than `after_pk` and the `watched` ones."""

    @abstractmethod
    def read_points_since(
        self,
        run_id: str,
        cursors: dict[tuple[str, str], tuple[int, int]],
        limit: int = 10_000,
        counts: dict[tuple[str, str], int] | None = None,
    ) -> list[MetricSeries]:
        """Points logged after each metric's (step, seq) cursor, keyed by (name, column);
        metrics absent from `cursors` start at the beginning. For live streams.

        `counts` (each metric's point count when last read, kept up to date here) lets the
        store skip the metrics that did not grow."""

    def count_metric_points(self, run_id: str, names: Sequence[str] | None = None) -> int:
        """How many points the run's metrics (or the named ones) hold."""
        wanted = None if names is None else set(names)
        infos = self.list_metrics(run_id)
        return sum(i.count for i in infos if wanted is None or i.name in wanted)

    def get_metric_series_page(
        self,
        run_id: str,
        names: Sequence[str] | None = None,
        *,
        values_only: bool = False,
        page_token: str | None = None,
        page_size: int = 250_000,
    ) -> tuple[list[MetricSeries], str | None]:
        """One page of `get_metric_series` (at most `page_size` points) and the next page's
        token, None after the last. This default gives everything as one page; the SQL
        store pages for real (what the server serves)."""
        return self.get_metric_series(run_id, names, values_only=values_only), None

    # Logs
    @abstractmethod
    def append_log_lines(self, run_id: str, stream: str, lines: Sequence[str]) -> int:
        """Append lines to a log stream of the run; returns the first line's number."""

    @abstractmethod
    def read_log_lines(
        self, run_id: str, stream: str | None = None, after: int = -1, limit: int = 10_000
    ) -> list[LogLine]:
        """Lines numbered above `after` of a stream (or of all streams), oldest first."""

    @abstractmethod
    def list_log_streams(self, run_id: str) -> dict[str, int]:
        """The run's log streams and their line counts."""

    @abstractmethod
    def close(self) -> None:
        """Release connections."""


class LifecycleStore(ABC):
    """What MLflow's tracking API needs beyond TrackingStore: deleting and restoring runs,
    experiment tags, input datasets and every run's latest points in one query. The SQL
    store has it; the remote transports do not carry it (yet)."""

    @abstractmethod
    def set_run_deleted(self, run_id: str, deleted: bool) -> None:
        """Delete a run (kept, left out of searches unless asked for) or restore it."""

    @abstractmethod
    def log_points_if_active(self, run_id: str, batches: Sequence[PointBatch]) -> None:
        """log_points for a run that is not deleted (ValidationError if it is), the check and
        the points in one transaction: MLflow's log-batch refuses deleted runs."""

    @abstractmethod
    def set_experiment_tag(self, name: str, key: str, value: str) -> None:
        """Add or overwrite an experiment tag."""

    @abstractmethod
    def delete_experiment_tag(self, name: str, key: str) -> None:
        """Remove an experiment tag (NotFoundError if it has none of that key)."""

    @abstractmethod
    def log_inputs(self, run_id: str, inputs: Sequence[RunInput]) -> None:
        """Record datasets a run read; the same dataset again only refreshes its tags."""

    @abstractmethod
    def get_inputs(self, run_ids: Sequence[str]) -> dict[str, list[RunInput]]:
        """The inputs of each run, in the order they were first logged."""

    @abstractmethod
    def latest_points(self, run_ids: Sequence[str]) -> dict[str, list[LatestPoint]]:
        """Each run's numeric scalar metrics' latest points, for many runs in one query."""


class ModelStore(ABC):
    """The model registry's records: models by name, their numbered versions with tags,
    write-once properties and the storage key of their files. Every method is one
    transaction, confined to one workspace."""

    @abstractmethod
    def create_model_version(
        self,
        new: NewModelVersion,
        storage_key: str,
        path: str,
        files: list[str],
        origin: VersionOrigin | None = None,
    ) -> ModelVersion:
        """Record the next version of a model for files already stored under `storage_key`
        (`origin`: what an MLflow client said of its source)."""

    @abstractmethod
    def get_model_version(self, name: str, version: int | None = None) -> ModelVersion:
        """One version of a model, its newest when `version` is None."""

    @abstractmethod
    def list_model_versions(self, model_filter: ModelFilter | None = None) -> list[ModelVersion]:
        """Versions matching the filter, by model name, newest version first."""

    @abstractmethod
    def set_model_tags(self, name: str, version: int, tags: dict[str, str | None]) -> None:
        """Add or overwrite tags of a version."""

    @abstractmethod
    def remove_model_tags(self, name: str, version: int, keys: Iterable[str]) -> None:
        """Delete tags of a version; unknown keys are ignored."""

    @abstractmethod
    def add_model_properties(self, name: str, version: int, properties: dict[str, str]) -> None:
        """Add write-once properties to a version."""

    # The model as a whole (MLflow's registered model; mlflow/mapping.py maps it)
    @abstractmethod
    def create_registered_model(
        self, name: str, description: str | None = None, tags: dict[str, str | None] | None = None
    ) -> RegisteredModel:
        """A model with no versions yet (ConflictError if the name is taken)."""

    @abstractmethod
    def get_registered_model(self, name: str) -> RegisteredModel:
        """A model by name (ModelNotFoundError if there is none)."""

    @abstractmethod
    def list_registered_models(self) -> list[RegisteredModel]:
        """Every model of the workspace, by name, with or without versions."""

    @abstractmethod
    def update_registered_model(self, name: str, description: str | None) -> RegisteredModel:
        """Set (or clear, with None) a model's description."""

    @abstractmethod
    def rename_registered_model(self, name: str, new_name: str) -> RegisteredModel:
        """Give a model and all its versions another name (ConflictError if it is taken)."""

    @abstractmethod
    def delete_registered_model(self, name: str) -> list[ModelVersion]:
        """Delete a model, its versions, tags and aliases; returns the versions deleted
        (their files are the caller's to delete)."""

    @abstractmethod
    def set_registered_model_tags(self, name: str, tags: dict[str, str | None]) -> None:
        """Add or overwrite tags of the model as a whole."""

    @abstractmethod
    def remove_registered_model_tags(self, name: str, keys: Iterable[str]) -> None:
        """Delete tags of the model as a whole; unknown keys are ignored."""

    @abstractmethod
    def set_model_alias(self, name: str, alias: str, version: int) -> None:
        """Point an alias of a model at one of its versions (moving it if it exists)."""

    @abstractmethod
    def remove_model_alias(self, name: str, alias: str) -> None:
        """Delete an alias; an unknown alias is ignored (the model must exist)."""

    @abstractmethod
    def update_model_version(
        self,
        name: str,
        version: int,
        *,
        description: str | EllipsisType | None = ...,
        stage: str | None = None,
        archive_others: bool = False,
    ) -> ModelVersion:
        """Change a version's description (`...` leaves it, None clears it) and/or stage;
        with `archive_others`, the model's other versions in that stage become Archived."""

    @abstractmethod
    def delete_model_version(self, name: str, version: int) -> ModelVersion:
        """Delete a version with its tags, properties and aliases; returns it (its files
        are the caller's to delete). Its number is never given again."""


class LoggedModelStore(ABC):
    """MLflow 3's logged models of one workspace (see core/logged_models.py)."""

    @abstractmethod
    def create_logged_model(
        self,
        experiment_name: str,
        name: str,
        *,
        source_run_id: str | None = None,
        model_type: str | None = None,
        tags: dict[str, str] | None = None,
        params: dict[str, str] | None = None,
    ) -> LoggedModel:
        """A new PENDING logged model of the experiment (NotFoundError for an unknown run)."""

    @abstractmethod
    def get_logged_model(self, model_id: str, *, allow_deleted: bool = False) -> LoggedModel:
        """One logged model (NotFoundError if unknown, or deleted unless allowed)."""

    @abstractmethod
    def list_logged_models(self, experiment_names: Sequence[str]) -> list[LoggedModel]:
        """The experiments' logged models that are not deleted, newest first."""

    @abstractmethod
    def update_logged_model(
        self,
        model_id: str,
        *,
        status: str | None = None,
        tags: dict[str, str] | None = None,
        remove_tags: Iterable[str] = (),
        params: dict[str, str] | None = None,
        deleted: bool | None = None,
    ) -> LoggedModel:
        """Change a logged model: finalize its status, set or remove tags, add write-once
        params, delete it; returns it as it is now."""

    @abstractmethod
    def link_logged_models(self, links: Sequence[ModelLink]) -> None:
        """Record models as a run's inputs or outputs (again is no change)."""

    @abstractmethod
    def logged_model_links(self, run_id: str) -> list[ModelLink]:
        """The models a run took in and put out, by direction and step."""
