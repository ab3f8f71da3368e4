"""A metric's chart history within a step range: what a zoomed chart re-queries.

Like the full history, a range longer than `max_points` comes back as buckets keeping each
one's min and max; wide buckets are merged from the per-100-point rollups whose steps lie
wholly inside the range (the few points of a block straddling an edge are left out of a
view that wide), narrow ones from the points themselves. A range of at least a quarter as
many blocks as buckets asked for is drawn one bucket per block.
"""

from __future__ import annotations

import math
from typing import Any

from sqlalchemy import Connection, func, select

from runyard.core.errors import ValidationError
from runyard.core.history import History
from runyard.core.metrics import decode_value
from runyard.store.rollups import bucket_points, merged_rollups
from runyard.store.schema import ROLLUP_BLOCK, metric_points, metric_rollups

#: A range of at least this many points per asked-for bucket is read from the rollups, one
#: bucket per block: a quarter of the buckets asked for or more, each keeping its min and
#: max, where bucketing the points themselves would read them all (a 5% zoom into a
#: million points: 50,000 rows and ~30 ms, against 500 rollup rows and ~1 ms).
_ROLLUPS_FROM = ROLLUP_BLOCK // 4


def read_history_range(
    conn: Connection, metric: Any, max_points: int | None, min_step: int, max_step: int
) -> History:
    """The metric's points with `min_step <= step <= max_step`, bucketed past `max_points`."""
    if max_points is not None and max_points < 1:
        raise ValidationError(f"max_points must be at least 1, got {max_points}")
    if min_step > max_step:
        raise ValidationError(f"min_step ({min_step}) is above max_step ({max_step})")
    in_range = [
        metric_points.c.metric_id == metric.id,
        metric_points.c.step >= min_step,
        metric_points.c.step <= max_step,
    ]
    count = int(conn.execute(select(func.count()).where(*in_range)).scalar_one())
    if max_points is None or count <= max_points:
        rows = conn.execute(
            select(
                metric_points.c.step,
                metric_points.c.value,
                metric_points.c.text,
                metric_points.c.vtype,
            )
            .where(*in_range)
            .order_by(metric_points.c.step, metric_points.c.seq)
        ).all()
        return History(
            count=count,
            downsampled=False,
            steps=[r[0] for r in rows],
            values=[decode_value(r[1], r[2], r[3]) for r in rows],
        )
    width = math.ceil(count / max_points)
    if width >= ROLLUP_BLOCK or count >= max_points * _ROLLUPS_FROM:
        return _from_rollups(conn, metric.id, count, max(width, ROLLUP_BLOCK), min_step, max_step)
    return bucket_points(conn, in_range, count, width)


def _from_rollups(
    conn: Connection, metric_id: int, count: int, width: int, min_step: int, max_step: int
) -> History:
    inside = [
        metric_rollups.c.metric_id == metric_id,
        metric_rollups.c.first_step >= min_step,
        metric_rollups.c.last_step <= max_step,
    ]
    first_block = select(func.min(metric_rollups.c.block)).where(*inside).scalar_subquery()
    blocks_per_bucket = math.ceil(width / ROLLUP_BLOCK)
    return merged_rollups(
        conn, [metric_rollups.c.block - first_block], inside, count, blocks_per_bucket
    )
