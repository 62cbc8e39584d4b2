"""The yearly report's part of the console: what was published over some days, who wrote
and who approved it, where it went, and where and how often boards showed it (from their
proof of play), as a page and a CSV whose cells are safe in a spreadsheet."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.db.models import Q, QuerySet
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from kiosk.core.textrules import spreadsheet_safe
from kiosk.province.bulletins.bulletin import (
    headline,
    officer,
    state_text,
    visible,
)
from kiosk.province.bulletins.models import Bulletin
from kiosk.province.bulletins.targets import Places
from kiosk.province.bulletins.views import target_choices, writers
from kiosk.province.exports import views as exports
from kiosk.province.exports.tables import Table
from kiosk.province.fleet import figures
from kiosk.province.fleet.figures import Figures
from kiosk.province.fleet.fleetdata import (
    day_bounds,
    province_moment,
    province_tz,
    spreadsheet_moment,
)
from kiosk.province.fleet.views import days_asked
from kiosk.province.server.paging import batches, paged

# For the Department, opened in Excel: Vietnamese headers, the province's local times to the
# minute (YYYY-MM-DD HH:MM, which a spreadsheet reads as a date in any locale). The API and
# JSON keep their stable English names (SPEC 7.3).
COLUMNS = ["Mã", "Tiêu đề", "Loại", "Mức độ", "Trạng thái", "Kênh", "Người viết",
           "Người duyệt", "Xuất bản lúc", "Gỡ xuống lúc", "Số bảng tin", "Lượt phát",
           "Thời lượng (giây)"]  # fmt: skip


CSV_CHUNK = 500  # bulletins whose figures are read at once
# What the report reads of a bulletin (a year of them: the rest would only cost time)
REPORTED = ("id", "kind", "priority", "title", "caption", "ticker", "body", "channels",
            "state", "aired", "published_at", "withdrawn_at", "author__username",
            "published_by__username")  # fmt: skip
KIND_VI, PRIORITY_VI = dict(Bulletin.Kind.choices), dict(Bulletin.Priority.choices)


@dataclass
class Line:
    b: Bulletin
    title: str
    where: str
    boards: int = 0
    plays: int = 0
    seconds: float = 0.0


def _on_air(user: Any, start: date, end: date) -> QuerySet[Bulletin]:
    """Bulletins on air at some time between start and end that this officer may see, in
    the order they were published."""
    lo, hi = day_bounds(start, end)
    rows = (
        Bulletin.objects.select_related("author", "published_by")
        .only(*REPORTED)
        .filter(published_at__isnull=False, published_at__lt=hi)
        .filter(Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gte=lo))
        .order_by("published_at", "id")
    )
    return visible(officer(user), rows)


def _lines(bulletins: list[Bulletin], start: date, end: date, places: Places) -> list[Line]:
    """Each bulletin with where and how often boards showed it (on any of its channels)."""
    found = figures.shown([(c, b.item_id) for b in bulletins for c in b.channels], start, end)
    lines = []
    for b in bulletins:
        total = Figures()
        for channel in b.channels:
            if shown := found.get((channel, b.item_id)):
                total.add(shown.total.plays, shown.total.seconds, shown.total.board_set)
        lines.append(Line(b, headline(b), places.describe(b.channels), total.boards,
                          total.plays, total.seconds))  # fmt: skip
    return lines


@require_GET
@writers
def report_page(request: HttpRequest) -> HttpResponse:
    start, end, error = days_asked(request.GET)
    now, tz = timezone.now(), province_tz()
    listing = paged(request, _on_air(request.user, start, end))
    lines = _lines(list(listing["page"]), start, end, Places(target_choices()))
    rows = [
        {"l": line, "kind": line.b.get_kind_display(), "priority": line.b.get_priority_display(),
         "state": state_text(line.b, now, tz), "published": province_moment(line.b.published_at),
         "withdrawn": province_moment(line.b.withdrawn_at), "minutes": round(line.seconds / 60)}
        for line in lines
    ]  # fmt: skip
    context = {"rows": rows, "start": start, "end": end, "error": error, **listing}
    return render(request, "bulletins/reports.html", context)


@dataclass(frozen=True)
class Reported:
    """A bulletin as the year's CSV reads it: the fields it needs, without a model per row
    (54,000 bulletins a year at 1,000 communes)."""

    pk: int
    kind: str
    priority: str
    title: str
    caption: str
    ticker: str
    body: str
    channels: list[str]
    state: str
    aired: dict | None
    published_at: datetime | None
    withdrawn_at: datetime | None
    author: str
    published_by: str

    @property
    def item_id(self) -> str:
        return f"bt-{self.pk}"


def _csv_rows(on_air: QuerySet[Bulletin], start: date, end: date) -> Iterator[list]:
    now, tz, places = timezone.now(), province_tz(), Places(target_choices())
    rows = on_air.values_list(*REPORTED).iterator(chunk_size=CSV_CHUNK)
    for chunk in batches((Reported(*r) for r in rows), CSV_CHUNK):
        for line in _lines(chunk, start, end, places):
            b = line.b
            # what officers typed is made safe for a spreadsheet; the rest is ours
            typed = [
                spreadsheet_safe(c) for c in (line.title, b.author or "", b.published_by or "")
            ]
            yield [b.item_id, typed[0], KIND_VI[b.kind], PRIORITY_VI[b.priority],
                   state_text(b, now, tz), " ".join(b.channels), typed[1], typed[2],
                   spreadsheet_moment(b.published_at), spreadsheet_moment(b.withdrawn_at),
                   line.boards, line.plays, round(line.seconds)]  # fmt: skip


def report_table(user: Any, query: QueryDict) -> Table:
    start, end, error = days_asked(query)
    on_air = _on_air(user, start, end)
    return Table(COLUMNS, _csv_rows(on_air, start, end), f"ban-tin-{start}-{end}.csv",
                 expected=0 if error else on_air.count(), error=error)  # fmt: skip


@require_GET
@writers
def report_csv(request: HttpRequest) -> HttpResponse:
    return exports.answer(request, "reports")
