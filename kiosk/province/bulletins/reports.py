"""The yearly report's part of the console: what was published over some days, who wrote
and who approved it, where it went, and where and how often boards showed it (from their
proof of play), as a page and a CSV whose cells are safe in a spreadsheet."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.db.models import Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from kiosk.core.textrules import spreadsheet_safe
from kiosk.province.bulletins.bulletin import (
    headline,
    officer,
    state_text,
    username_of,
)
from kiosk.province.bulletins.models import Bulletin
from kiosk.province.bulletins.targets import describe
from kiosk.province.bulletins.views import target_choices, writers
from kiosk.province.fleet.fleetdata import (
    day_bounds,
    play_report,
    province_moment,
    province_tz,
    spreadsheet_moment,
)
from kiosk.province.fleet.views import csv_response, days_asked

# For the Department, opened in Excel: Vietnamese headers, the province's local times to the
# minute (YYYY-MM-DD HH:MM, which a spreadsheet reads as a date in any locale). The API and
# JSON keep their stable English names (SPEC 7.3).
COLUMNS = ["Mã", "Tiêu đề", "Loại", "Mức độ", "Trạng thái", "Kênh", "Người viết",
           "Người duyệt", "Xuất bản lúc", "Gỡ xuống lúc", "Số bảng tin", "Lượt phát",
           "Thời lượng (giây)"]  # fmt: skip


@dataclass
class Line:
    b: Bulletin
    title: str
    where: str
    boards: int = 0
    plays: int = 0
    seconds: float = 0.0


def report_lines(request: HttpRequest, start: date, end: date) -> list[Line]:
    """Bulletins on air at some time between start and end that this officer may see."""
    lo, hi = day_bounds(start, end)
    me = officer(request.user)
    choices = target_choices()
    shown = (
        Bulletin.objects.select_related("author", "published_by")
        .filter(published_at__isnull=False, published_at__lt=hi)
        .filter(Q(withdrawn_at__isnull=True) | Q(withdrawn_at__gte=lo))
        .order_by("published_at", "id")
    )
    lines = {b.item_id: Line(b, headline(b), describe(b.channels, choices))
             for b in shown if me.sees(b.channels)}  # fmt: skip
    for plays in play_report(start, end):
        line = lines.get(plays.item)
        if line is not None and plays.channel in line.b.channels:
            line.boards += plays.boards
            line.plays += plays.plays
            line.seconds += plays.seconds
    return list(lines.values())


@require_GET
@writers
def report_page(request: HttpRequest) -> HttpResponse:
    start, end, error = days_asked(request)
    now, tz = timezone.now(), province_tz()
    rows = [
        {"l": line, "kind": line.b.get_kind_display(), "priority": line.b.get_priority_display(),
         "state": state_text(line.b, now, tz), "published": province_moment(line.b.published_at),
         "withdrawn": province_moment(line.b.withdrawn_at), "minutes": round(line.seconds / 60)}
        for line in report_lines(request, start, end)
    ]  # fmt: skip
    return render(request, "bulletins/reports.html",
                  {"rows": rows, "start": start, "end": end, "error": error})  # fmt: skip


@require_GET
@writers
def report_csv(request: HttpRequest) -> HttpResponse:
    start, end, error = days_asked(request)
    if error:
        return HttpResponse(error, status=400)
    rows = []
    now, tz = timezone.now(), province_tz()
    for line in report_lines(request, start, end):
        b = line.b
        cells = [b.item_id, line.title, b.get_kind_display(), b.get_priority_display(),
                 state_text(b, now, tz), " ".join(b.channels), username_of(b.author),
                 username_of(b.published_by), spreadsheet_moment(b.published_at),
                 spreadsheet_moment(b.withdrawn_at)]  # fmt: skip
        rows.append(
            [spreadsheet_safe(c) for c in cells] + [line.boards, line.plays, round(line.seconds)]
        )
    return csv_response(COLUMNS, rows, f"ban-tin-{start}-{end}.csv")
