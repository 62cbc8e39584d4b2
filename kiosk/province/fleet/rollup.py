"""The housekeeping's rollup: what boards added to their daily sums since the last run,
summed over boards into ItemDay (an item, a day, an area) and ItemTotal (an item's life).

A heartbeat adds to its own board's rows only (PlayDay), so 10,000 boards never wait on one
hot row of a province-wide bulletin; this rollup, one process each minute, moves what they
added into the rows pages read. The part of a PlayDay row not yet moved is plays minus
rolled_plays; the rollup moves it and sets rolled_* to the values it read, in one short
transaction (steps.py), so a heartbeat that adds meanwhile leaves its part for the next run.
Until then every figure read adds it (figures.py): nothing is ever missing from a page.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from django.db import connection, transaction

from kiosk.province.fleet import boardsets
from kiosk.province.fleet.fleetdata import area_of, db_date
from kiosk.province.fleet.models import ItemDay, ItemTotal
from kiosk.province.fleet.numbering import number_boards
from kiosk.province.fleet.steps import in_steps, rest_for

UNROLLED = (
    "SELECT pd.board_id, pd.channel, pd.item, pd.day, pd.plays, pd.seconds, pd.rolled_plays, "
    "pd.rolled_seconds, b.number, b.district, b.province_code FROM fleet_playday pd "
    "JOIN fleet_board b ON b.device_id = pd.board_id WHERE pd.plays > pd.rolled_plays"
)


@dataclass
class Added:
    """What some boards added to one ItemDay or ItemTotal row."""

    plays: int = 0
    seconds: float = 0.0
    boards: boardsets.BoardSet = 0
    days: list[date] = field(default_factory=list)

    def add(self, plays: int, seconds: float, number: int | None, day: date) -> None:
        self.plays += plays
        self.seconds += seconds
        if number is not None:
            self.boards |= 1 << number
        self.days.append(day)


def _roll_step(limit: int, clock: Callable[[], float]) -> tuple[int, float]:
    with transaction.atomic(), connection.cursor() as cursor:
        began = clock()
        if connection.vendor == "postgresql":  # one rollup at a time, or sums would double
            cursor.execute("SELECT pg_try_advisory_xact_lock(27)")
            if not cursor.fetchone()[0]:
                return 0, clock() - began
        cursor.execute(UNROLLED + " LIMIT %s", [limit])
        rows = cursor.fetchall()
        days: dict[tuple[str, str, date, str], Added] = {}
        lives: dict[tuple[str, str, str], Added] = {}
        for _board, channel, item, day, plays, seconds, rp, rs, number, district, prov in rows:
            day = db_date(day)
            area = area_of(district, prov)
            for sums, key in ((days, (channel, item, day, area)), (lives, (channel, item, area))):
                sums.setdefault(key, Added()).add(plays - rp, seconds - rs, number, day)
        _merge(ItemDay, days)
        _merge(ItemTotal, lives)
        cursor.executemany(  # in the key's order, as heartbeats add to them (no deadlock)
            "UPDATE fleet_playday SET rolled_plays = %s, rolled_seconds = %s "
            "WHERE board_id = %s AND channel = %s AND item = %s AND day = %s",
            [(plays, seconds, board, channel, item, day)
             for board, channel, item, day, plays, seconds, *_rest in sorted(rows)],
        )  # fmt: skip
    return len(rows), clock() - began  # the commit included: it writes what the step did


def _merge(model: type[ItemDay] | type[ItemTotal], added: dict[tuple, Added]) -> None:
    """Adds to the rows of model (ItemDay or ItemTotal) what the boards added."""
    key_fields = [f.name for f in model._meta.pk_fields]
    keys, have = list(added), {}
    for n in range(0, len(keys), 500):
        have |= {row.pk: row for row in model.objects.filter(pk__in=keys[n : n + 500])}
    rows = []
    for key, a in added.items():
        row = have.get(key) or model(**dict(zip(key_fields, key, strict=True)))
        row.plays += a.plays
        row.seconds += a.seconds
        row.boards = boardsets.pack(boardsets.unpack(row.boards) | a.boards)
        if isinstance(row, ItemTotal):
            row.first_day = min(d for d in (row.first_day, *a.days) if d is not None)
            row.last_day = max(d for d in (row.last_day, *a.days) if d is not None)
        rows.append(row)
    updated = ["plays", "seconds", "boards"]
    model.objects.bulk_create(
        rows, batch_size=500, update_conflicts=True, unique_fields=key_fields,
        update_fields=updated + (["first_day", "last_day"] if model is ItemTotal else []),
    )  # fmt: skip


def roll_up(clock: Callable[[], float] = time.monotonic) -> int:
    """Moves what boards added into ItemDay and ItemTotal; returns the PlayDay rows moved."""
    number_boards()
    return in_steps(lambda limit: _roll_step(limit, clock), clock, rest_for(connection.vendor))
