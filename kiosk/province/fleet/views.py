"""The console's pages, in Vietnamese, for people with an account: the fleet, a board (its
problems, history, screenshot and commands), and proof of play (a page and a CSV).

Technicians and admins see boards and send commands; every account sees proof of play.
Times are the province's (Asia/Ho_Chi_Minh), written as a technician reads them."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from kiosk.core.problemtext import explain_vi
from kiosk.core.textrules import spreadsheet_safe
from kiosk.core.timeutil import parse_rfc3339
from kiosk.core.vietnamese import BOARD_STATE_VI, PROBLEM_VI, moment_text, sort_key, when_text
from kiosk.province.accounts.views import BOARD_ROLES, for_roles
from kiosk.province.exports import views as exports
from kiosk.province.exports.tables import Table
from kiosk.province.fleet import figures
from kiosk.province.fleet.figures import Figures, Item, Shown
from kiosk.province.fleet.fleetdata import (
    STATES,
    PlaysAsked,
    areas_shown,
    boards_asked,
    items_shown,
    province_tz,
    state_counts,
    titles_of,
    with_state,
)
from kiosk.province.fleet.models import Board, Command, Screenshot
from kiosk.province.server.paging import batches, paged

HISTORY_SHOWN = 50
MAX_REPORT_DAYS = 3660
CSV_CHUNK = 500  # items whose figures are read at once for a CSV


def _when(moment: datetime | None, now: datetime) -> str:
    return when_text(moment, now, province_tz()) if moment else "chưa có"


def _board_view(board: Board, now: datetime, screenshots: set[str]) -> dict:
    """board as with_state read it (its state asked of the database)."""
    state = board.state
    return {
        "board": board,
        "state": state,
        "state_vi": BOARD_STATE_VI[state],
        "last": _when(board.last_heartbeat_at, now),
        "showing": board.current_title or board.current_item or "",
        "problems": [PROBLEM_VI.get(code, code) for code in board.codes()]
        if state not in ("offline", "never")
        else [],
        "has_screenshot": board.device_id in screenshots,
    }


@require_GET
@for_roles(*BOARD_ROLES)
def fleet(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    asked = {k: request.GET.get(k, "").strip()[:200] for k in ("state", "area", "q")}
    listing = paged(request, boards_asked(now, asked["state"], asked["area"], asked["q"]), 100)
    page = list(listing["page"])
    shots = set(Screenshot.objects.filter(board_id__in=[b.device_id for b in page])
                .values_list("board_id", flat=True))  # fmt: skip
    counts = state_counts(now)
    return render(request, "fleet/fleet.html", {
        "boards": [_board_view(b, now, shots) for b in page],
        "counts": [(BOARD_STATE_VI[s], s, counts[s]) for s in STATES],
        "total": sum(counts.values()), "asked": asked, "areas": areas_shown(),
        "now": moment_text(now.astimezone(province_tz())), **listing,
    })  # fmt: skip


@require_GET
@for_roles(*BOARD_ROLES)
def board_page(request: HttpRequest, device_id: str) -> HttpResponse:
    now = timezone.now()
    board = get_object_or_404(with_state(Board.objects.all(), now), pk=device_id)
    shot = Screenshot.objects.filter(board=board).only("taken_at").first()
    problems = []
    for p in (board.health or {}).get("problems") or []:
        if isinstance(p, dict):
            since = _parse_time(p.get("since"))
            problems.append(
                {
                    "label": PROBLEM_VI.get(str(p.get("code")), str(p.get("code"))),
                    "code": str(p.get("code")),
                    "why": explain_vi(str(p.get("message", ""))[:500]),
                    "message": str(p.get("message", ""))[:500],
                    "since": _when(since, now) if since else "",
                }
            )
    history = [
        {
            "at": _when(c.at, now),
            "state_vi": BOARD_STATE_VI.get(c.status, c.status),
            "state": c.status,
            "problems": ", ".join(PROBLEM_VI.get(code, code) for code in c.codes()),
        }
        for c in board.changes.all()[:HISTORY_SHOWN]
    ]
    commands = [
        {
            "type": c.get_type_display(),
            "asked": _when(c.requested_at, now),
            "by": c.requested_by.username if c.requested_by else "",
            "done": _when(c.done_at, now) if c.done_at else "",
        }
        for c in board.commands.select_related("requested_by")[:10]
    ]
    return render(
        request,
        "fleet/board.html",
        {
            "v": _board_view(board, now, {board.device_id} if shot else set()),
            "problems": problems,
            "history": history,
            "commands": commands,
            "command_types": Command.Type.choices,
            "shot_at": _when(shot.taken_at, now) if shot else "",
        },
    )


def _parse_time(value: object) -> datetime | None:
    try:
        return parse_rfc3339(value)
    except (ValueError, TypeError):
        return None


@require_POST
@for_roles(*BOARD_ROLES)
def ask_board(request: HttpRequest, device_id: str) -> HttpResponse:
    """A command for the board, carried by its next heartbeat reply; one of each type waits
    at a time, so pressing twice asks once."""
    kind = request.POST.get("type", "")
    if kind not in Command.Type.values:
        return HttpResponse("Yêu cầu không hợp lệ.", status=400)
    with transaction.atomic():
        board = get_object_or_404(Board.objects.select_for_update(), pk=device_id)
        waiting = board.commands.filter(type=kind, done_at=None).exists()
        if not waiting:
            Command.objects.create(
                board=board,
                ident=uuid.uuid4().hex,
                type=kind,
                requested_at=timezone.now(),
                requested_by=request.user,
            )
            board.commands_pending = board.commands.filter(done_at=None).count()
            board.save(update_fields=["commands_pending"])
    note = "đã được gửi trước đó và đang chờ" if waiting else "đã được gửi"
    messages.success(
        request, f"Yêu cầu “{Command.Type(kind).label}” {note}; bảng tin nhận ở lần báo cáo tới."
    )
    return redirect("board", device_id=device_id)


@require_GET
@for_roles(*BOARD_ROLES)
def screenshot(request: HttpRequest, device_id: str) -> HttpResponse:
    shot = get_object_or_404(Screenshot, board_id=device_id)
    response = HttpResponse(bytes(shot.jpeg), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=60"
    return response


def days_asked(query: QueryDict) -> tuple[date, date, str | None]:
    today = timezone.now().astimezone(province_tz()).date()
    try:
        start = date.fromisoformat(query.get("from") or str(today - timedelta(days=29)))
        end = date.fromisoformat(query.get("to") or str(today))
    except ValueError:
        return today - timedelta(days=29), today, "Ngày không hợp lệ; dùng dạng NNNN-TT-NN."
    if end < start or (end - start).days > MAX_REPORT_DAYS:
        return today - timedelta(days=29), today, "Khoảng ngày không hợp lệ."
    return start, end, None


def _plays_asked(query: QueryDict) -> tuple[PlaysAsked, str | None]:
    start, end, error = days_asked(query)
    words = {k: query.get(k, "").strip()[:200] for k in ("channel", "area", "q")}
    return PlaysAsked(start, end, words["channel"], words["area"], words["q"]), error


def _shown_rows(asked: PlaysAsked, items: list[Item]) -> list[tuple[Item, str, Shown]]:
    """Each item with its title and figures; with an area asked, that area's only."""
    titles = titles_of(items)
    found = figures.shown(items, asked.start, asked.end)
    rows = []
    for key in items:
        s = found.get(key, Shown())
        if asked.area:
            only = s.areas.get(asked.area, Figures())
            s = Shown(only, {asked.area: only})
        rows.append((key, titles.get(key, key[1]), s))
    return rows


@require_GET
@login_required
def plays(request: HttpRequest) -> HttpResponse:
    asked, error = _plays_asked(request.GET)
    listing = paged(request, items_shown(asked))
    items = [(r["channel"], r["item"]) for r in listing["page"]]
    rows = [
        {
            "channel": channel,
            "item": item,
            "title": title,
            "total": s.total,
            "hours": _duration(s.total.seconds),
            "areas": [
                (area, f.boards, f.plays, _duration(f.seconds))
                for area, f in sorted(s.areas.items(), key=lambda kv: sort_key(kv[0]))
            ],
        }
        for (channel, item), title, s in _shown_rows(asked, items)
    ]
    return render(
        request,
        "fleet/plays.html",
        {"rows": rows, "start": asked.start, "end": asked.end, "asked": asked, "error": error,
         "areas": areas_shown(), **listing},
    )  # fmt: skip


PLAYS_CSV = ["Kênh", "Mã bản tin", "Tiêu đề", "Địa bàn", "Số bảng tin", "Lượt phát",
             "Thời lượng (giây)"]  # fmt: skip


def _plays_lines(asked: PlaysAsked) -> Iterator[list]:
    rows = items_shown(asked).iterator(chunk_size=CSV_CHUNK)
    for chunk in batches(((r["channel"], r["item"]) for r in rows), CSV_CHUNK):
        for (channel, item), title, s in _shown_rows(asked, chunk):
            for area, f in sorted(s.areas.items(), key=lambda kv: sort_key(kv[0])):
                yield [*(spreadsheet_safe(v) for v in (channel, item, title, area)),
                       f.boards, f.plays, round(f.seconds)]  # fmt: skip


def plays_table(user: Any, query: QueryDict) -> Table:
    """Every account sees every board's proof of play: user is not needed."""
    asked, error = _plays_asked(query)
    return Table(PLAYS_CSV, _plays_lines(asked), f"phat-song-{asked.start}-{asked.end}.csv",
                 expected=0 if error else items_shown(asked).count(), error=error)  # fmt: skip


@require_GET
@login_required
def plays_csv(request: HttpRequest) -> HttpResponse:
    return exports.answer(request, "plays")


def _duration(seconds: float) -> str:
    """3 phút 05 giây; 2 giờ 07 phút."""
    if seconds < 3600:
        whole = round(seconds)
        return f"{whole // 60} phút {whole % 60:02d} giây"
    minutes = round(seconds / 60)
    return f"{minutes // 60} giờ {minutes % 60:02d} phút"
