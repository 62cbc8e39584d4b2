"""Raw plays older than plays_raw_days go, without stalling the heartbeats.

Their plays are in the daily sums since they arrived (ingest.py), so expiry loses no figure.
On PostgreSQL a day's partition is dropped whole (partitions.py), and only what the default
partition caught is deleted row by row. SQLite has one writer at a time, so there the rows
are deleted in small transactions, each sized to hold the write lock for at most STEP_S:
a heartbeat waits for one of them, never for the whole expiry.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime

from django.db import connection, transaction

from kiosk.province.fleet import partitions
from kiosk.province.fleet.steps import in_steps, rest_for

log = logging.getLogger(__name__)


def _delete_in_steps(table: str, row_id: str, raw_from: datetime,
                     clock: Callable[[], float]) -> int:  # fmt: skip
    adapted = connection.ops.adapt_datetimefield_value(raw_from)

    def step(limit: int) -> tuple[int, float]:
        with transaction.atomic(), connection.cursor() as cursor:
            began = clock()  # the lock is ours from here to the commit's end
            cursor.execute(
                f"DELETE FROM {table} WHERE {row_id} IN (SELECT {row_id} FROM {table} "
                "WHERE started_at < %s LIMIT %s)",
                [adapted, limit],
            )
            deleted = cursor.rowcount
        return deleted, clock() - began

    return in_steps(step, clock, rest_for(connection.vendor))


def expire_raw_plays(
    now: datetime, raw_from: datetime, clock: Callable[[], float] = time.monotonic
) -> int:
    """Deletes the raw plays that started before raw_from (on PostgreSQL, those of whole
    days before it); returns how many rows were deleted one by one."""
    if connection.vendor == "postgresql":
        made, dropped = partitions.keep_partitions(now, raw_from)
        if made or dropped:
            log.info("plays: %d day partitions made, %d dropped", made, dropped)
        return _delete_in_steps("fleet_play_default", "ctid", raw_from, clock)
    return _delete_in_steps("fleet_play", "rowid", raw_from, clock)
