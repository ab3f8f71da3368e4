"""What processes that ended left in a spool folder: delivered by the next runyard process
that opens the same store (or server workspace), or by `runyard sync`."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from runyard.client.base import FileStore
from runyard.client.batching import describe
from runyard.client.operations import apply
from runyard.client.spool import Spooled, SpooledBatch, claim, orphan_segments, read_pending
from runyard.core.errors import RunyardError, TransportError
from runyard.store.base import TrackingStore

log = logging.getLogger("runyard.pipeline")


def replayer(store: TrackingStore, files: FileStore | None) -> Callable[[Spooled], None]:
    """Send one spooled item to the store: points under their idempotency key (never twice),
    calls through the table of operations. A refused item is logged and dropped; an
    unreachable server raises TransportError (the segment is kept for next time)."""

    def replay(item: Spooled) -> None:
        try:
            if isinstance(item, SpooledBatch):
                store.log_points(item.run_id, item.batches, item.key)
            else:
                apply(item.op, item.args, store, files)
        except TransportError:
            raise
        except RunyardError as exc:
            log.warning("a spooled %s was refused and dropped: %s", describe(item), exc)

    return replay


def upload_orphans(
    folder: Path,
    send: Callable[[Spooled], None],
    progress: Callable[[int, int], None] | None = None,
) -> tuple[int, int]:
    """Send the pending items of every orphan segment, deleting each segment once done.

    `send` raises to stop (the segment is kept for next time). Returns (items, points).
    """
    sent = points = 0
    for path in orphan_segments(folder):
        with claim(path) as claimed:
            if not claimed:
                continue
            pending = read_pending(path)
            total = len(pending)
            for index, item in enumerate(pending):
                send(item)
                sent += 1
                if isinstance(item, SpooledBatch):
                    points += sum(len(b.values) for b in item.batches)
                if progress is not None:
                    progress(index + 1, total)
            path.unlink(missing_ok=True)
    return sent, points
