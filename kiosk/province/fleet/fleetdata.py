"""The fleet as the API, the pages and `kiosk fleet --server` see it, read from the database."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import (
    Case,
    Count,
    Exists,
    F,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Sum,
    Value,
    When,
)

from kiosk.core.fleet import ONLINE_WINDOW, heartbeat_online
from kiosk.core.health import rfc3339
from kiosk.core.vietnamese import moment_text, search_key, sort_key, spreadsheet_text
from kiosk.province.fleet.models import Board, ItemTitle, ItemTotal, PlayDay

STATES = ("ok", "degraded", "failing", "offline", "never")
SEVERITY = {"failing": 0, "offline": 1, "degraded": 2, "never": 3, "ok": 4}
PROVINCE_AREA = "Tỉnh "


def area_of(district: str, province_code: str) -> str:
    """Where proof of play counts a board: its district, or its province where the inventory
    names no district (the communes of the 2025 reform)."""
    return district or f"{PROVINCE_AREA}{province_code}"


def db_date(value: date | str) -> date:
    """A date as a raw query hands it back (SQLite may give its text)."""
    return value if isinstance(value, date) else date.fromisoformat(value)


def with_state(rows: QuerySet, now: datetime) -> QuerySet:
    """rows of Board with `state` and `severity` (the worst first), asked of the database, so
    the fleet page filters, counts and sorts 10,000 boards there; the one statement of the
    rule: ok, degraded or failing as the last heartbeat said; offline when that is
    ONLINE_WINDOW old or older; never when none came."""
    silent = now - ONLINE_WINDOW
    state = Case(
        When(last_heartbeat_at__isnull=True, then=Value("never")),
        When(last_heartbeat_at__lte=silent, then=Value("offline")),
        When(status="", then=Value("ok")),
        default=F("status"),
    )
    severity = Case(*(When(state=s, then=Value(n)) for s, n in SEVERITY.items()), default=Value(5))
    return rows.annotate(state=state).annotate(severity=severity)


def boards_asked(now: datetime, state: str = "", area: str = "", text: str = "") -> QuerySet:
    """The inventory's boards in one state, in one area, whose name or id holds the text
    (any case, with or without marks), the worst first."""
    rows = with_state(Board.objects.filter(in_inventory=True).defer("health"), now)
    if state in STATES:
        rows = rows.filter(state=state)
    if area.startswith(PROVINCE_AREA):
        rows = rows.filter(district="", province_code=area.removeprefix(PROVINCE_AREA))
    elif area:
        rows = rows.filter(district=area)
    if words := search_key(text):
        rows = rows.filter(Q(search__contains=words) | Q(device_id__contains=text.strip()))
    return rows.order_by("severity", "district", "unit_name", "device_id")


def state_counts(now: datetime) -> dict[str, int]:
    """How many boards of the inventory are in each state."""
    rows = with_state(Board.objects.filter(in_inventory=True), now)
    counts = dict.fromkeys(STATES, 0)
    for row in rows.values("state").annotate(n=Count("device_id")).order_by():
        counts[row["state"]] = row["n"]
    return counts


def province_tz() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def province_moment(moment: datetime | None, seconds: bool = False) -> str:
    """A stored moment as officers read it, in the province's time: "08:30 ngày 16/4/2024"
    ("08:30:05 ngày …" with seconds, for the audit log); "" for none."""
    if moment is None:
        return ""
    return moment_text(moment.astimezone(province_tz()), seconds)


def spreadsheet_moment(moment: datetime | None) -> str:
    """A stored moment for a CSV opened in a spreadsheet: the province's local time to the
    minute, "2026-12-04 08:30" (read as a date and time in any locale); "" for none."""
    if moment is None:
        return ""
    return spreadsheet_text(moment.astimezone(province_tz()))


def board_row(board: Board, now: datetime, with_health: bool = False) -> dict[str, Any]:
    current = (
        {"channel": board.current_channel, "id": board.current_item} if board.current_item else None
    )
    return {
        "device_id": board.device_id,
        "unit_name": board.unit_name,
        "unit_kind": board.unit_kind,
        "district": board.district,
        "last_heartbeat_at": rfc3339(board.last_heartbeat_at),
        "online": heartbeat_online(board.last_heartbeat_at, now),
        "status": board.status or None,
        "problems": board.codes(),
        "current_item": current,
    } | ({"health": board.health} if with_health else {})


def board_rows(now: datetime, with_health: bool = False) -> list[dict[str, Any]]:
    """SPEC 7.3's /api/v1/boards: every board of the inventory (and, when asked, the last
    health document each sent)."""
    fields = (
        "device_id",
        "unit_name",
        "unit_kind",
        "district",
        "last_heartbeat_at",
        "status",
        "problems",
        "current_channel",
        "current_item",
        *(("health",) if with_health else ()),
    )
    boards = Board.objects.filter(in_inventory=True).only(*fields)
    return [board_row(b, now, with_health) for b in boards]


def day_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """From the start of `start` to the end of `end`, in the province's time zone."""
    tz = province_tz()
    return (
        datetime.combine(start, time(), tz),
        datetime.combine(end + timedelta(days=1), time(), tz),
    )


def play_sums(start: date, end: date, boards: list[str]) -> list[dict[str, Any]]:
    """Plays and seconds per board, channel and item over the days from start to end (both
    included, in the province's time), from the daily sums made as plays arrive, for these
    boards (the API asks a few hundred at a time: the sums' key starts with the board)."""
    rows = (
        PlayDay.objects.filter(board_id__in=boards, day__gte=start, day__lte=end)
        .values("channel", "item", "board_id")
        .annotate(n=Sum("plays"), s=Sum("seconds"))
        .order_by("board_id", "channel", "item")
    )
    return [
        {
            "channel": row["channel"],
            "item": row["item"],
            "device_id": row["board_id"],
            "plays": int(row["n"]),
            "seconds": round(row["s"], 1),
        }
        for row in rows
    ]


@dataclass(frozen=True)
class PlaysAsked:
    """What an officer asks of proof of play: some days, and optionally one channel, one
    area, and words of the title."""

    start: date
    end: date
    channel: str = ""
    area: str = ""
    text: str = ""


def items_shown(asked: PlaysAsked) -> QuerySet:
    """The items boards showed in those days, newest first: {"channel", "item"} rows of the
    rollup's lives, to page through. An item shown for the first time in the last minute
    appears at the housekeeping's next run."""
    rows = ItemTotal.objects.filter(first_day__lte=asked.end, last_day__gte=asked.start)
    if asked.channel:
        rows = rows.filter(channel=asked.channel)
    if asked.area:
        rows = rows.filter(area=asked.area)
    if words := search_key(asked.text):
        titled = ItemTitle.objects.filter(
            channel=OuterRef("channel"), item=OuterRef("item"), title_key__contains=words
        )
        rows = rows.filter(Q(Exists(titled)) | Q(item__contains=asked.text.strip()))
    return (
        rows.values("channel", "item")
        .annotate(last=Max("last_day"))
        .order_by("-last", "channel", "item")
    )


def item_rows(sql: str, items: list[tuple[str, str]], params: tuple = ()) -> Iterator[tuple]:
    """The rows of sql, which reads from `wanted` (channel, item): these pairs, 500 at a
    time. One plain statement joined to a list of values, which both databases answer
    through the tables' keys (the ORM's 500 OR-ed conditions cost more to build than the
    answer, and SQLite scans for a row-value IN)."""
    with connection.cursor() as cursor:
        for n in range(0, len(items), 500):
            chunk = items[n : n + 500]
            wanted = (
                f"WITH wanted (channel, item) AS (VALUES {', '.join(['(%s, %s)'] * len(chunk))}) "
            )
            cursor.execute(wanted + sql, [*(v for k in chunk for v in k), *params])
            yield from cursor.fetchall()


def titles_of(items: list[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The items' titles as the site published them (the housekeeping keeps them)."""
    sql = ("SELECT t.channel, t.item, t.title FROM wanted JOIN fleet_itemtitle t "
           "ON t.channel = wanted.channel AND t.item = wanted.item")  # fmt: skip
    return {(channel, item): title for channel, item, title in item_rows(sql, items)}


def areas_shown() -> list[str]:
    """Every area of the inventory, in Vietnamese order (for the filter)."""
    rows = Board.objects.values_list("district", "province_code").distinct()
    return sorted({area_of(d, p) for d, p in rows}, key=sort_key)
