"""The endpoints machines call (SPEC 7.3): boards' heartbeats, the fleet API, /metrics.

Each answers JSON (or Prometheus text) with a status code a client can act on, never a page
and never a traceback."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from urllib.parse import urlencode

from django.core.exceptions import RequestDataTooBig
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, JsonResponse, StreamingHttpResponse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET

from kiosk.province.accounts.tokens import api_user, board_for
from kiosk.province.fleet import fleetdata, metrics
from kiosk.province.fleet.heartbeatdoc import MAX_BODY, HeartbeatInvalid, parse_heartbeat
from kiosk.province.fleet.ingest import store_heartbeat
from kiosk.province.fleet.models import Board
from kiosk.province.fleet.refusals import REFUSED
from kiosk.province.server.paging import batches

API_ROLES = ("admin", "technician")
JSON = "application/json"
PLAYS_PAGE, MAX_PLAYS_PAGE = 200, 1000  # boards in a page of /api/v1/plays


def _error(status: int, message: str, **headers: str) -> JsonResponse:
    return JsonResponse({"error": message}, status=status, headers=headers or None)


def _unauthorized() -> JsonResponse:
    REFUSED.count("heartbeat_unauthorized")
    return _error(401, "this board's token is needed", **{"WWW-Authenticate": "Bearer"})


@csrf_exempt
def heartbeat(request: HttpRequest, device_id: str) -> HttpResponse:
    if request.method != "POST":
        return _error(405, "POST a heartbeat here (SPEC 1.6)", Allow="POST")
    if not board_for(device_id, request.headers.get("Authorization")):
        return _unauthorized()
    try:
        body: bytes | None = request.body
    except RequestDataTooBig:  # Content-Length over DATA_UPLOAD_MAX_MEMORY_SIZE: not read
        body = None
    if body is None or len(body) > MAX_BODY:
        REFUSED.count("heartbeat_too_large")
        return _error(413, "a heartbeat is at most 1 MiB")
    try:
        hb = parse_heartbeat(body, device_id)
    except HeartbeatInvalid as exc:
        REFUSED.count("heartbeat_invalid")
        return _error(400, str(exc))
    if hb.screenshot_refused:
        REFUSED.count("screenshot_refused")
    commands = store_heartbeat(device_id, hb, timezone.now())
    if commands is None:  # left the inventory since the token was checked
        return _unauthorized()
    return JsonResponse({"commands": commands})


def _api_user(request: HttpRequest):
    """The account of the request's API token, or the JsonResponse refusing it."""
    user = api_user(request.headers.get("Authorization"))
    if user is None:
        return None, _error(401, "an API token is needed", **{"WWW-Authenticate": "Bearer"})
    role = getattr(getattr(user, "profile", None), "role", None)
    if not (user.is_superuser or role in API_ROLES):
        return None, _error(403, "this account's role may not read the fleet")
    return user, None


@require_GET
def api_boards(request: HttpRequest) -> HttpResponse:
    _user, refused = _api_user(request)
    if refused:
        return refused
    with_health = request.GET.get("health") == "1"  # kiosk fleet --server reads them whole
    return JsonResponse({"boards": fleetdata.board_rows(timezone.now(), with_health)})


def _day(value: str | None, name: str) -> date:
    try:
        if value is None or len(value) != 10:
            raise ValueError
        return date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{name} must be a date, YYYY-MM-DD") from None


@require_GET
def api_plays(request: HttpRequest) -> HttpResponse:
    _user, refused = _api_user(request)
    if refused:
        return refused
    try:
        start = _day(request.GET.get("from"), "from")
        end = _day(request.GET.get("to"), "to")
    except ValueError as exc:
        return _error(400, str(exc))
    if end < start:
        return _error(400, "to is before from")
    after = request.GET.get("after", "")[:64]
    size = request.GET.get("boards")
    if size is None and not after:  # SPEC 7.3: every board, streamed a batch at a time
        return StreamingHttpResponse(_every_play_sum(start, end), content_type=JSON)
    try:
        size_n = int(size or PLAYS_PAGE)
        if not 1 <= size_n <= MAX_PLAYS_PAGE:
            raise ValueError
    except ValueError:
        return _error(400, f"boards must be a whole number from 1 to {MAX_PLAYS_PAGE}")
    page = list(_board_ids(after)[:size_n])
    more = len(page) == size_n and _board_ids(page[-1]).exists()
    following = (
        urlencode({"from": start, "to": end, "boards": size_n, "after": page[-1]}) if more else ""
    )
    return JsonResponse({"plays": fleetdata.play_sums(start, end, page),
                         "next": f"{request.path}?{following}" if more else None})  # fmt: skip


def _board_ids(after: str) -> QuerySet:
    """Every board that may have plays (those the inventory dropped keep theirs), in order."""
    return Board.objects.filter(device_id__gt=after).order_by("device_id").values_list(
        "device_id", flat=True)  # fmt: skip


def _every_play_sum(start: date, end: date) -> Iterator[bytes]:
    """{"plays": [...]} of every board, written as the sums are read, PLAYS_PAGE boards at a
    time: a year of a national fleet is never held in memory."""
    yield b'{"plays": ['
    first = True
    for boards in batches(_board_ids("").iterator(chunk_size=PLAYS_PAGE), PLAYS_PAGE):
        for row in fleetdata.play_sums(start, end, boards):
            yield (b"" if first else b", ") + json.dumps(row, ensure_ascii=False).encode()
            first = False
    yield b"]}"


@require_GET
def metrics_view(request: HttpRequest) -> HttpResponse:
    text, content_type = metrics.exposition(timezone.now())
    return HttpResponse(text, content_type=content_type)


def not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return _error(404, "no such page")


def server_error(request: HttpRequest) -> HttpResponse:
    return HttpResponse(
        json.dumps({"error": "the server failed; it is logged"}),
        status=500,
        content_type="application/json",
    )
