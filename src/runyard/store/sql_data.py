"""The metrics and logs half of the SQL store: points in bulk, series, history, log lines."""

from __future__ import annotations

import time
from collections.abc import Sequence

from sqlalchemy import Connection, select

from runyard.core.errors import NotFoundError
from runyard.core.history import History
from runyard.core.limits import Limits
from runyard.core.log_lines import LogLine
from runyard.core.metrics import MetricInfo, MetricSeries, PointBatch
from runyard.store.changes import notify_run_changed
from runyard.store.database import Database
from runyard.store.history_range import read_history_range
from runyard.store.ingest import write_points
from runyard.store.logs import append_lines, list_streams, read_lines
from runyard.store.points import list_metric_infos, read_series, read_since
from runyard.store.rollups import read_history
from runyard.store.schema import ingest_batches, metrics
from runyard.store.series_pages import count_points, make_token, parse_token, read_page


class RunData:
    """Mixin of SqlTrackingStore; the store provides the database, limits and run lookup."""

    db: Database
    limits: Limits

    def _run_pk(self, conn: Connection, run_id: str, *, lock: bool = False) -> int:
        raise NotImplementedError

    def log_points(
        self, run_id: str, batches: Sequence[PointBatch], idempotency_key: str | None = None
    ) -> bool:
        """Append metric points in bulk, all batches in one transaction.

        With an idempotency key, a batch already stored under that key is not stored
        again; returns False in that case.
        """
        with self.db.write() as conn:
            pk = self._run_pk(conn, run_id)
            if not batches:
                return True
            if idempotency_key is not None:
                inserted = conn.execute(
                    self.db.insert(ingest_batches)
                    .values(key=idempotency_key, run_id=pk, created_time=time.time())
                    .on_conflict_do_nothing()
                    .returning(ingest_batches.c.key)
                ).first()
                if inserted is None:
                    return False
            write_points(conn, pk, batches, self.limits.max_points_per_metric)
            notify_run_changed(conn, run_id)
            return True

    def list_metrics(self, run_id: str) -> list[MetricInfo]:
        """The run's metric series with their counts and last values, in creation order."""
        with self.db.read() as conn:
            return list_metric_infos(conn, self._run_pk(conn, run_id))

    def get_metric_history(
        self, run_id: str, name: str, column: str = "", max_points: int | None = None
    ) -> History:
        """A metric's points for a chart, downsampled to `max_points` buckets if longer."""
        with self.db.read() as conn:
            pk = self._run_pk(conn, run_id)
            metric = conn.execute(
                select(metrics).where(
                    metrics.c.run_id == pk, metrics.c.name == name, metrics.c.column == column
                )
            ).first()
            if metric is None:
                label = name if not column else f"{name}.{column}"
                raise NotFoundError(f"run {run_id!r} has no metric {label!r}")
            return read_history(conn, metric, max_points)

    def get_metric_history_range(
        self,
        run_id: str,
        name: str,
        column: str,
        max_points: int | None,
        min_step: int | None,
        max_step: int | None,
    ) -> History:
        """A metric's chart history within a step range (a zoomed chart), bucketed like
        `get_metric_history` past `max_points`."""
        with self.db.read() as conn:
            pk = self._run_pk(conn, run_id)
            metric = conn.execute(
                select(metrics).where(
                    metrics.c.run_id == pk, metrics.c.name == name, metrics.c.column == column
                )
            ).first()
            if metric is None:
                label = name if not column else f"{name}.{column}"
                raise NotFoundError(f"run {run_id!r} has no metric {label!r}")
            low = -(2**63) if min_step is None else min_step
            high = 2**63 - 1 if max_step is None else max_step
            return read_history_range(conn, metric, max_points, low, high)

    def read_points_since(
        self,
        run_id: str,
        cursors: dict[tuple[str, str], tuple[int, int]],
        limit: int = 10_000,
        counts: dict[tuple[str, str], int] | None = None,
    ) -> list[MetricSeries]:
        """Points logged after each metric's (step, seq) cursor; metrics absent start at 0.

        `counts` (each metric's point count when last read, kept up to date here) skips
        the metrics that did not grow.
        """
        with self.db.read() as conn:
            return read_since(conn, self._run_pk(conn, run_id), cursors, limit, counts)

    # Logs
    def append_log_lines(self, run_id: str, stream: str, lines: Sequence[str]) -> int:
        """Append lines to a log stream of the run; returns the first line's number."""
        with self.db.write() as conn:
            pk = self._run_pk(conn, run_id, lock=True)
            first = append_lines(conn, pk, stream, lines)
            notify_run_changed(conn, run_id)
            return first

    def read_log_lines(
        self, run_id: str, stream: str | None = None, after: int = -1, limit: int = 10_000
    ) -> list[LogLine]:
        """Lines numbered above `after` of a stream (or of all streams), oldest first."""
        with self.db.read() as conn:
            return read_lines(conn, self._run_pk(conn, run_id), stream, after, limit)

    def list_log_streams(self, run_id: str) -> dict[str, int]:
        """The run's log streams and their line counts."""
        with self.db.read() as conn:
            return list_streams(conn, self._run_pk(conn, run_id))

    def count_metric_points(self, run_id: str, names: Sequence[str] | None = None) -> int:
        """How many points the run's metrics (or the named ones) hold."""
        with self.db.read() as conn:
            return count_points(conn, self._run_pk(conn, run_id), names)

    def get_metric_series_page(
        self,
        run_id: str,
        names: Sequence[str] | None = None,
        *,
        values_only: bool = False,
        page_token: str | None = None,
        page_size: int = 250_000,
    ) -> tuple[list[MetricSeries], str | None]:
        """One page of `get_metric_series` (at most `page_size` points) and the token of
        the next page, None after the last; a metric may continue on the next page."""
        after = None if page_token is None else parse_token(page_token)
        with self.db.read() as conn:
            page, last = read_page(
                conn,
                self._run_pk(conn, run_id),
                names,
                values_only=values_only,
                after=after,
                size=page_size,
            )
        return page, None if last is None else make_token(last)

    def get_metric_series(
        self, run_id: str, names: Sequence[str] | None = None, *, values_only: bool = False
    ) -> list[MetricSeries]:
        """Every point of the named metrics (all when None), in creation then step order."""
        with self.db.read() as conn:
            return read_series(conn, self._run_pk(conn, run_id), names, values_only=values_only)
