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
from django.db.models import Q

from kiosk.province.fleet import boardsets
from kiosk.province.fleet.fleetdata import area_of, db_date
from kiosk.province.fleet.models import ItemDay, ItemTotal

Item = tuple[str, str]  # (channel, item)
CHUNK = 500


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


def _chunks(items: list[Item]) -> Iterator[list[Item]]:
    for n in range(0, len(items), CHUNK):
        yield items[n : n + CHUNK]


def _unrolled(items: list[Item]) -> dict[Item, list[Unrolled]]:
    found: dict[Item, list[Unrolled]] = defaultdict(list)
    with connection.cursor() as cursor:
        for chunk in _chunks(items):
            cursor.execute(
                "SELECT pd.channel, pd.item, pd.day, pd.plays - pd.rolled_plays, "
                "pd.seconds - pd.rolled_seconds, b.number, b.district, b.province_code "
                "FROM fleet_playday pd JOIN fleet_board b ON b.device_id = pd.board_id "
                "WHERE pd.plays > pd.rolled_plays AND (pd.channel, pd.item) IN "
                f"(VALUES {', '.join(['(%s, %s)'] * len(chunk))})",
                [v for key in chunk for v in key],
            )
            for channel, item, day, plays, seconds, number, district, province in cursor:
                bits = boardsets.of([number]) if number is not None else 0
                found[(channel, item)].append(
                    Unrolled(db_date(day), plays, seconds, bits, area_of(district, province))
                )
    return found


def _rows(model: type[ItemDay] | type[ItemTotal], items: list[Item], **when: date):
    """model's rows of these items (and days, for ItemDay)."""
    for chunk in _chunks(items):
        wanted = Q()
        for channel, item in chunk:
            wanted |= Q(channel=channel, item=item)
        yield from model.objects.filter(wanted, **when)


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
        lives: dict[Item, list[ItemTotal]] = defaultdict(list)
        for row in _rows(ItemTotal, items):
            lives[(row.channel, row.item)].append(row)
        by_day = []
        for key in items:
            life, added = lives.get(key, []), unrolled.get(key, [])
            days = [u.day for u in added] + [d for r in life for d in (r.first_day, r.last_day)]
            if not days:
                continue
            if start <= min(days) and max(days) <= end:  # the whole life: a row an area
                s = found[key] = Shown()
                for r in life:
                    s.add(r.area, r.plays, r.seconds, boardsets.unpack(r.boards))
                for u in added:
                    s.add(u.area, u.plays, u.seconds, u.board_set)
            else:
                by_day.append(key)
        for r in _rows(ItemDay, by_day, day__gte=start, day__lte=end):
            s = found.setdefault((r.channel, r.item), Shown())
            s.add(r.area, r.plays, r.seconds, boardsets.unpack(r.boards))
        for key in by_day:
            for u in unrolled.get(key, []):
                if start <= u.day <= end:
                    found.setdefault(key, Shown()).add(u.area, u.plays, u.seconds, u.board_set)
    return found
