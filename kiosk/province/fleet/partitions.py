"""PostgreSQL: the raw plays partitioned by day of started_at (UTC), so keeping them
plays_raw_days costs dropping a partition a day, not deleting millions of rows.

The table (migration 0002) has a DEFAULT partition that catches a play no day's partition
takes (a server that ran without its housekeeping). Making a day's partition moves what the
default holds of that day into it first, so making one never fails on rows already stored.
"""

from __future__ import annotations

import logging
import re
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection, transaction

log = logging.getLogger(__name__)
DAYS_AHEAD = 2  # partitions made ahead, so midnight never finds its day without one
_NAME = re.compile(r"^fleet_play_p(\d{8})$")


def _name(day: date) -> str:
    return f"fleet_play_p{day:%Y%m%d}"


def _start(day: date) -> datetime:
    return datetime.combine(day, time(), UTC)


def day_partitions() -> dict[date, str]:
    """The days that have their own partition, and the partition's name."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = 'fleet_play'::regclass"
        )
        names = [row[0] for row in cursor.fetchall()]
    days = {}
    for name in names:
        if found := _NAME.match(name):
            days[datetime.strptime(found[1], "%Y%m%d").date()] = name
    return days


def make_partition(day: date) -> None:
    """The partition of one UTC day, with what the default partition holds of it. No play
    may reach the default between the move and the ATTACH (the ATTACH would fail on it), so
    the default is locked against writes meanwhile: a heartbeat whose plays fall there waits
    for the move (milliseconds: days are made DAYS_AHEAD ahead, when the default holds none
    of them), one whose plays fall in a day's partition does not wait at all."""
    name, lo, hi = _name(day), _start(day), _start(day + timedelta(days=1))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL lock_timeout = '10s'")  # never queue heartbeats for long
        cursor.execute("LOCK TABLE fleet_play_default IN SHARE ROW EXCLUSIVE MODE")
        cursor.execute(f"CREATE TABLE {name} (LIKE fleet_play INCLUDING DEFAULTS)")
        cursor.execute(
            f"WITH moved AS (DELETE FROM fleet_play_default WHERE started_at >= %s "
            f"AND started_at < %s RETURNING *) INSERT INTO {name} SELECT * FROM moved",
            [lo, hi],
        )
        # DDL takes no parameters: the bounds are written out (made here, from a date)
        cursor.execute(
            f"ALTER TABLE fleet_play ATTACH PARTITION {name} "
            f"FOR VALUES FROM ('{lo.isoformat()}') TO ('{hi.isoformat()}')"
        )


def keep_partitions(now: datetime, raw_from: datetime) -> tuple[int, int]:
    """Partitions from raw_from's day to DAYS_AHEAD days ahead exist; those wholly before
    raw_from's day are dropped. Returns (made, dropped)."""
    have = day_partitions()
    first, last = raw_from.astimezone(UTC).date(), now.astimezone(UTC).date()
    wanted = [first + timedelta(days=n) for n in range((last - first).days + DAYS_AHEAD + 1)]
    made = dropped = 0
    for day in wanted:
        if day not in have:
            make_partition(day)
            made += 1
    for day, name in sorted(have.items()):
        if day < first:
            with connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE {name}")
            dropped += 1
    return made, dropped
