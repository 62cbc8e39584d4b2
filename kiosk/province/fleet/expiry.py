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

log = logging.getLogger(__name__)
STEP_S = 0.05  # the longest a delete may hold SQLite's write lock
BUDGET_S = 20.0  # one housekeeping run's share; the rest waits for the next minute
FIRST_CHUNK, MIN_CHUNK, MAX_CHUNK = 500, 50, 20_000


def next_chunk(chunk: int, took_s: float) -> int:
    """The next delete's size: aimed at half of STEP_S, by what the last one took."""
    if took_s <= 0:
        return MAX_CHUNK
    aimed = int(chunk * (STEP_S / 2) / took_s)
    return max(MIN_CHUNK, min(MAX_CHUNK, aimed, chunk * 2))


def _delete_in_steps(
    table: str, row_id: str, raw_from: datetime, clock: Callable[[], float]
) -> int:
    adapted = connection.ops.adapt_datetimefield_value(raw_from)
    gone, chunk, deadline = 0, FIRST_CHUNK, clock() + BUDGET_S
    while clock() < deadline:
        began = clock()
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(
                f"DELETE FROM {table} WHERE {row_id} IN (SELECT {row_id} FROM {table} "
                "WHERE started_at < %s LIMIT %s)",
                [adapted, chunk],
            )
            n = cursor.rowcount
        gone += n
        if n < chunk:
            break
        chunk = next_chunk(chunk, clock() - began)
    return gone


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
