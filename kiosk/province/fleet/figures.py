"""Proof of play's figures for some bulletins over some days: plays, seconds and how many
boards showed each, in all or per area, exact to the last heartbeat stored.

They are read from the rollup's sums (rollup.py): an item's whole life in one ItemTotal row
when the days asked hold it (the yearly report), else its ItemDay rows of those days; and
to them is added what boards added since the last rollup (PlayDay rows whose plays exceed
rolled_plays, a minute's worth). Both are read in one snapshot, so a rollup committing
meanwhile neither doubles nor drops a play. The cost is a row per item, or per item and day,
never a row per board.
"""

from __future__ import annotations

import contextlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date

from django.db import connection, transaction

from kiosk.province.fleet import boardsets
from kiosk.province.fleet.fleetdata import area_of, db_date, item_rows

Item = tuple[str, str]  # (channel, item)
JOINED = "FROM wanted JOIN {} t ON t.channel = wanted.channel AND t.item = wanted.item"
LIVES = ("SELECT t.channel, t.item, t.area, t.first_day, t.last_day, t.plays, t.seconds, "
         "t.boards " + JOINED.format("fleet_itemtotal"))  # fmt: skip
DAYS = ("SELECT t.channel, t.item, t.area, t.plays, t.seconds, t.boards "
        + JOINED.format("fleet_itemday") + " WHERE t.day >= %s AND t.day <= %s")  # fmt: skip
UNROLLED = (
    "SELECT t.channel, t.item, t.day, t.plays - t.rolled_plays, t.seconds - t.rolled_seconds, "
    "b.number, b.district, b.province_code " + JOINED.format("fleet_playday")
    + " JOIN fleet_board b ON b.device_id = t.board_id WHERE t.plays > t.rolled_plays"
)  # fmt: skip


@dataclass
class Figures:
    plays: int = 0
    seconds: float = 0.0
    board_set: boardsets.BoardSet = 0

    @property
    def boards(self) -> int:
        return boardsets.count(self.board_set)

    def add(self, plays: int, seconds: float, board_set: boardsets.BoardSet) -> None:
        self.plays += plays
        self.seconds += seconds
        self.board_set |= board_set


@dataclass(frozen=True)
class Unrolled:
    """What one board added to an item's day since the last rollup."""

    day: date
    plays: int
    seconds: float
    board_set: boardsets.BoardSet
    area: str


@contextlib.contextmanager
def snapshot() -> Iterator[None]:
    """Every read inside sees the database at one moment (SQLite's read transactions do;
    PostgreSQL is asked to)."""
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield


def _unrolled(items: list[Item]) -> dict[Item, list[Unrolled]]:
    found: dict[Item, list[Unrolled]] = defaultdict(list)
    for channel, item, day, plays, seconds, number, district, province in item_rows(
        UNROLLED, items
    ):
        bits = boardsets.of([number]) if number is not None else 0
        found[(channel, item)].append(
            Unrolled(db_date(day), plays, seconds, bits, area_of(district, province))
        )
    return found


@dataclass
class Shown:
    """An item's figures over some days: in all, and per area."""

    total: Figures = field(default_factory=Figures)
    areas: dict[str, Figures] = field(default_factory=dict)

    def add(self, area: str, plays: int, seconds: float, board_set: boardsets.BoardSet) -> None:
        self.total.add(plays, seconds, board_set)
        self.areas.setdefault(area, Figures()).add(plays, seconds, board_set)


def shown(items: Iterable[Item], start: date, end: date) -> dict[Item, Shown]:
    """Each item's figures over the days from start to end (both included); an item no
    board showed then is absent."""
    items = list(dict.fromkeys(items))
    found: dict[Item, Shown] = {}
    with snapshot():
        unrolled = _unrolled(items)
        lives: dict[Item, list[tuple]] = defaultdict(list)
        for channel, item, *life in item_rows(LIVES, items):
            lives[(channel, item)].append(life)
        by_day = []
        for key in items:
            life, added = lives.get(key, []), unrolled.get(key, [])
            days = [u.day for u in added] + [db_date(d) for r in life for d in r[1:3]]
            if not days:
                continue
            if start <= min(days) and max(days) <= end:  # the whole life: a row an area
                s = found[key] = Shown()
                for area, _first, _last, plays, seconds, boards in life:
                    s.add(area, plays, seconds, boardsets.unpack(boards))
                for u in added:
                    s.add(u.area, u.plays, u.seconds, u.board_set)
            else:
                by_day.append(key)
        adapt = connection.ops.adapt_datefield_value
        for channel, item, area, plays, seconds, boards in item_rows(
            DAYS, by_day, (adapt(start), adapt(end))
        ):
            s = found.setdefault((channel, item), Shown())
            s.add(area, plays, seconds, boardsets.unpack(boards))
        for key in by_day:
            for u in unrolled.get(key, []):
                if start <= u.day <= end:
                    found.setdefault(key, Shown()).add(u.area, u.plays, u.seconds, u.board_set)
    return found
