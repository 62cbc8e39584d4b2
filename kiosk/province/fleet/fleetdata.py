"""The fleet as the API, the pages and `kiosk fleet --server` see it, read from the database."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Sum

from kiosk.core.fleet import heartbeat_online
from kiosk.core.health import rfc3339
from kiosk.core.vietnamese import moment_text, spreadsheet_text
from kiosk.province.fleet.models import Board, ItemTitle, PlayDay
from kiosk.province.sitetitles import published_titles

STATES = ("ok", "degraded", "failing", "offline", "never")


def board_state(board: Board, now: datetime) -> str:
    """ok, degraded or failing as its last heartbeat said; offline when that is older
    than ONLINE_WINDOW; never when none came."""
    if board.last_heartbeat_at is None:
        return "never"
    if not heartbeat_online(board.last_heartbeat_at, now):
        return "offline"
    return board.status or "ok"


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


def play_sums(start: date, end: date) -> list[dict[str, Any]]:
    """Plays and seconds per channel, item and board over the days from start to end (both
    included, in the province's time), from the daily sums made as plays arrive."""
    rows = (
        PlayDay.objects.filter(day__gte=start, day__lte=end)
        .values("channel", "item", "board_id")
        .annotate(n=Sum("plays"), s=Sum("seconds"))
        .order_by("channel", "item", "board_id")
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


@dataclass
class BulletinPlays:
    """Proof of play of one bulletin over some days: in all, and per area."""

    channel: str
    item: str
    title: str
    boards: int = 0
    plays: int = 0
    seconds: float = 0.0
    areas: dict[str, list[float]] = field(default_factory=dict)  # area -> [boards, plays, s]


def play_report(start: date, end: date) -> list[BulletinPlays]:
    """Per bulletin: how many boards showed it, how often, how long, in all and per area
    (the district, or the province's code where the inventory gives none)."""
    areas = {
        b.device_id: b.district or f"Tỉnh {b.province_code}"
        for b in Board.objects.only("device_id", "district", "province_code")
    }
    titles = {(b.channel, b.item): b.title for b in ItemTitle.objects.all()}
    titles |= published_titles(settings.KIOSK_PROVINCE.site_dir)  # what the site says now
    report: dict[tuple[str, str], BulletinPlays] = {}
    for row in play_sums(start, end):
        key = (row["channel"], row["item"])
        entry = report.get(key) or report.setdefault(
            key, BulletinPlays(*key, titles.get(key, row["item"]))
        )
        entry.boards += 1
        entry.plays += row["plays"]
        entry.seconds += row["seconds"]
        area = entry.areas.setdefault(areas.get(row["device_id"], "?"), [0, 0, 0.0])
        area[0] += 1
        area[1] += row["plays"]
        area[2] += row["seconds"]
    return sorted(report.values(), key=lambda e: (-e.plays, e.channel, e.item))
