"""The authoring console's pages (Vietnamese): bulletins listed, written, previewed,
submitted, published, returned, withdrawn; the audit log.

Every action is a POST behind Django's login and CSRF check, decided by
kiosk.province.accounts.rights on the bulletin as it is in the database (locked for the
change), so a forged request can do no more than the buttons an officer sees; each change and
its audit entry are one transaction."""

from __future__ import annotations

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from kiosk.core.vietnamese import search_key
from kiosk.province.accounts import rights
from kiosk.province.bulletins import audit
from kiosk.province.bulletins.bulletin import (
    aired,
    changes,
    facts,
    headline,
    officer,
    schedule_passed,
    snapshot,
    state_text,
    username_of,
    visible,
)
from kiosk.province.bulletins.forms import BulletinForm
from kiosk.province.bulletins.models import AuditEntry, Bulletin, Channel
from kiosk.province.bulletins.preview import PANELS, PreviewError, preview_png
from kiosk.province.bulletins.publishing import PublishError, announce, publish_channels
from kiosk.province.bulletins.targets import Places, Target, Unit, describe, find, targets
from kiosk.province.fleet.fleetdata import province_moment, province_tz
from kiosk.province.fleet.models import Board
from kiosk.province.server.paging import paged

AUDIT_LIMIT = 300
REFUSED = "Tài khoản này không được làm việc này với bản tin này."


def writers(view):
    @login_required
    @wraps(view)
    def checked(request: HttpRequest, *args, **kwargs):
        if not rights.may_write(officer(request.user)):
            return HttpResponseForbidden("Tài khoản này không viết bản tin.")
        return view(request, *args, **kwargs)

    return checked


def target_choices() -> list[Target]:
    units = Board.objects.filter(in_inventory=True).values_list(
        "unit_name", "province_code", "commune_code", "district"
    )
    return targets(Unit(*u) for u in units)


def _visible(request: HttpRequest, pk: int) -> Bulletin:
    b = get_object_or_404(Bulletin.objects.select_related("author", "edited_by"), pk=pk)
    if not officer(request.user).sees(b.channels):
        raise Http404
    return b


SCHEDULE_PASSED = (
    "Lịch phát của bản tin đã qua hết (hiệu lực, ngày và khung giờ): bản tin sẽ không lên bảng "
    "tin nào. Hãy sửa “Hiệu lực đến”, các ngày hoặc khung giờ."
)
STATE_FILTERS = {"published": "Đã xuất bản"}  # published is not "on air" once its time passed


def _row(b: Bulletin, places: Places) -> dict:
    returned = b.state == Bulletin.State.DRAFT and b.note
    return {
        "returned": b.note if returned else "",
        "b": b,
        "headline": headline(b),
        "kind": b.get_kind_display(),
        "priority": b.get_priority_display(),
        "state": state_text(b, timezone.now(), province_tz()),
        "where": places.describe(b.channels),
        "author": username_of(b.author),
        "updated": province_moment(b.updated_at),
    }


@require_GET
@writers
def bulletin_list(request: HttpRequest) -> HttpResponse:
    me = officer(request.user)
    state = request.GET.get("state", "")
    words = request.GET.get("q", "").strip()[:200]
    rows = visible(me, Bulletin.objects.select_related("author")).order_by("-updated_at", "-id")
    if state in Bulletin.State.values:
        rows = rows.filter(state=state)
    if key := search_key(words):
        rows = rows.filter(search__contains=key)
    listing = paged(request, rows)
    places = Places(target_choices())
    return render(
        request,
        "bulletins/bulletins.html",
        {
            "rows": [_row(b, places) for b in listing["page"]],
            "state": state,
            "words": words,
            "states": [(k, STATE_FILTERS.get(k, label)) for k, label in Bulletin.State.choices],
            **listing,
        },
    )


@require_GET
@writers
def target_search(request: HttpRequest) -> HttpResponse:
    """The communes this officer may write for whose name holds the words typed (JSON for
    the form's picker): {"targets": [{"key", "label"}]}, at most 20."""
    me = officer(request.user)
    mine = [t for t in target_choices() if me.covers(t.channels)]
    found = find(mine, request.GET.get("q", "")[:100])
    return JsonResponse({"targets": [{"key": t.key, "label": t.label} for t in found]})


def _save_form(request: HttpRequest, b: Bulletin | None) -> HttpResponse:
    me = officer(request.user)
    choices = target_choices()
    if b is not None and not rights.may_edit(me, facts(b)):
        return HttpResponseForbidden(REFUSED)
    initial = BulletinForm.initial_for(b, choices) if b is not None else None
    if request.method == "POST":
        form = BulletinForm(request.POST, request.FILES, choices=choices, officer=me, existing=b,
                            too_large=getattr(request, "uploads_too_large", ()))  # fmt: skip
        if form.is_valid():
            return _saved(request, form, b)
    else:
        form = BulletinForm(initial=initial, choices=choices, officer=me, existing=b)
    return render(request, "bulletins/bulletin_form.html", {"form": form, "b": b})


def _saved(request: HttpRequest, form: BulletinForm, old: Bulletin | None) -> HttpResponse:
    """A new bulletin, or a new draft revision of one. Editing never changes what boards
    show: a revision on air stays on air until its successor is approved (SPEC 7.4)."""
    now = timezone.now()
    with transaction.atomic():
        if old is None:
            b, before = Bulletin(author=request.user, created_at=now), None
        else:
            b = Bulletin.objects.select_for_update().get(pk=old.pk)
            if not rights.may_edit(officer(request.user), facts(b)):
                return HttpResponseForbidden(REFUSED)
            before = snapshot(b)
            b.revision += 1
        form.apply(b)
        b.state, b.edited_by, b.updated_at, b.note = "draft", request.user, now, ""
        b.save()
        audit.record(request.user, "created" if old is None else "edited", b, before,
                     snapshot(b))  # fmt: skip
    note = "Đã lưu bản nháp. Xem trước bên dưới, rồi gửi duyệt."
    if b.aired:
        note = "Đã lưu bản sửa. Bảng tin vẫn phát bản đã duyệt cho tới khi bản sửa này được duyệt."
    messages.success(request, note)
    if schedule_passed(b, now, province_tz()):
        messages.warning(request, SCHEDULE_PASSED)
    return redirect("bulletin", pk=b.pk)


@require_http_methods(["GET", "POST"])
@writers
def bulletin_new(request: HttpRequest) -> HttpResponse:
    return _save_form(request, None)


@require_http_methods(["GET", "POST"])
@writers
def bulletin_edit(request: HttpRequest, pk: int) -> HttpResponse:
    return _save_form(request, _visible(request, pk))


@require_GET
@writers
def bulletin_page(request: HttpRequest, pk: int) -> HttpResponse:
    b = _visible(request, pk)
    me, f = officer(request.user), facts(b)
    choices = target_choices()
    can = {
        "edit": rights.may_edit(me, f),
        "submit": rights.may_submit(me, f),
        "publish": rights.may_publish(me, f),
        "return": rights.may_return(me, f),
        "withdraw": rights.may_withdraw(me, f),
        "delete": rights.may_delete(me, f),
    }
    entries = list(b.auditentry_set.all()[:50])
    history = [audit_row(e) for e in entries]
    returned_by = next((e.username for e in entries if e.action == "returned"), "")
    return render(
        request,
        "bulletins/bulletin.html",
        {
            "r": _row(b, Places(choices)),
            "b": b,
            "can": can,
            "own": f.author == me.name or f.edited_by == me.name,
            "returned_by": returned_by,
            "history": history,
            "days": ", ".join(str(d) for d in b.days),
            "panels": PANELS,
            "stale": list(
                Channel.objects.filter(name__in=b.aired_channels, stale=True).values_list(
                    "name", flat=True
                )
            ),
        },
    )


def audit_row(e: AuditEntry) -> dict:
    """An audit entry as the pages show it."""
    return {
        "at": province_moment(e.at, seconds=True),
        "who": e.username,
        "what": e.get_action_display(),
        "detail": e.detail,
    }


class Conflict(Exception):
    """The bulletin changed since the approver saw it (SPEC 7.4: HTTP 409)."""

    def __init__(self, b: Bulletin, seen: int | None):
        super().__init__(b.pk)
        self.b, self.seen = b, seen


def _conflict(request: HttpRequest, c: Conflict) -> HttpResponse:
    """The 409 page: what changed between the revision the approver saw and the one now."""
    entry = (
        AuditEntry.objects.filter(bulletin=c.b, after__revision=c.seen).order_by("-at", "-id")
        if c.seen
        else AuditEntry.objects.none()
    ).first()
    seen = entry.after if entry else {}
    context = {
        "b": c.b,
        "headline": headline(c.b),
        "changes": changes(seen, snapshot(c.b)),
        "known": entry is not None,
    }
    return render(request, "bulletins/conflict.html", context, status=409)


def _act(request: HttpRequest, pk: int, allowed, change, done: str) -> HttpResponse:
    """One step of a bulletin, decided on the locked row, with its audit entry and any
    channel it changes republished in the same transaction."""
    now = timezone.now()
    try:
        with transaction.atomic():
            b = Bulletin.objects.select_for_update().filter(pk=pk).first()
            me = officer(request.user)
            if b is None or not me.sees(b.channels):
                raise Http404
            if not allowed(me, facts(b)):
                return HttpResponseForbidden(REFUSED)
            before = snapshot(b)
            action, channels, detail = change(b, now)
            b.updated_at = now
            b.save()
            outcome = publish_channels(channels, now)
            detail = " ".join(part for part in (detail, outcome.detail()) if part)
            audit.record(request.user, action, b, before, snapshot(b), detail)
    except Conflict as exc:
        return _conflict(request, exc)
    except PublishError as exc:
        messages.error(request, str(exc))
        return redirect("bulletin", pk=pk)
    if outcome.failed:
        messages.warning(request, outcome.detail())
    if not announce(outcome.sequences):
        done += " Chưa báo được cho bảng tin qua kênh đẩy; bảng tin sẽ nhận ở lần hỏi tới."
    messages.success(request, done)
    return redirect("bulletin", pk=pk)


@require_POST
@writers
def bulletin_submit(request: HttpRequest, pk: int) -> HttpResponse:
    def change(b: Bulletin, now):
        b.state, b.submitted_at = "submitted", now
        return "submitted", [], ""

    return _act(request, pk, rights.may_submit, change, "Đã gửi duyệt.")


@require_POST
@writers
def bulletin_publish(request: HttpRequest, pk: int) -> HttpResponse:
    seen = request.POST.get("revision", "")

    def change(b: Bulletin, now):
        if seen != str(b.revision):  # approve only what was seen
            raise Conflict(b, int(seen) if seen.isdigit() and len(seen) < 10 else None)
        if schedule_passed(b, now, province_tz()):
            raise PublishError("Chưa xuất bản. " + SCHEDULE_PASSED)
        channels = sorted(set(b.aired_channels) | set(b.channels))  # moved: off the old too
        b.state, b.published_at, b.published_by, b.note = "published", now, request.user, ""
        b.aired = aired(b)
        return "published", channels, f"bản sửa {b.revision}"

    return _act(request, pk, rights.may_publish, change, "Đã xuất bản; bảng tin sẽ hiện ngay.")


@require_POST
@writers
def bulletin_return(request: HttpRequest, pk: int) -> HttpResponse:
    reason = " ".join(request.POST.get("note", "").split())[:500]
    if not reason:  # the author must learn what to change
        messages.error(request, "Chưa trả lại: hãy ghi lý do để tác giả biết cần sửa gì.")
        return redirect("bulletin", pk=pk)

    def change(b: Bulletin, now):
        b.state, b.note = "draft", reason
        return "returned", [], reason

    return _act(request, pk, rights.may_return, change, "Đã trả lại cho tác giả.")


@require_POST
@writers
def bulletin_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    def change(b: Bulletin, now):
        channels = b.aired_channels
        b.state, b.withdrawn_at, b.aired = "withdrawn", now, None
        return "withdrawn", channels, ""

    return _act(request, pk, rights.may_withdraw, change, "Đã gỡ bản tin khỏi các bảng tin.")


@require_POST
@writers
def bulletin_delete(request: HttpRequest, pk: int) -> HttpResponse:
    with transaction.atomic():
        b = Bulletin.objects.select_for_update().filter(pk=pk).first()
        me = officer(request.user)
        if b is None or not me.sees(b.channels):
            raise Http404
        if not rights.may_delete(me, facts(b)):
            return HttpResponseForbidden(REFUSED)
        audit.record(request.user, "deleted", None, snapshot(b), None, headline(b))
        b.delete()
    messages.success(request, "Đã xóa bản nháp.")
    return redirect("bulletins")


@require_GET
@writers
def bulletin_preview(request: HttpRequest, pk: int, orientation: str) -> HttpResponse:
    if orientation not in PANELS:
        raise Http404
    b = _visible(request, pk)
    choices = target_choices()
    unit = describe(b.channels[:1], choices) or "Bảng tin điện tử công cộng"
    try:
        png = preview_png(b, orientation, unit, str(province_tz()), timezone.now())
    except PreviewError:
        return HttpResponse("Không vẽ được bản xem trước.", status=422)
    response = HttpResponse(png, content_type="image/png")
    response["Cache-Control"] = "private, no-store"
    return response


@require_GET
@writers
def audit_log(request: HttpRequest) -> HttpResponse:
    me = officer(request.user)
    if me.role not in rights.APPROVERS:
        return HttpResponseForbidden("Tài khoản này không được xem nhật ký.")
    entries = []
    for e in AuditEntry.objects.select_related("bulletin").iterator(chunk_size=500):
        channels = (e.after or e.before or {}).get("channels") or []
        if me.role == "admin" or me.sees(channels):
            title = headline(e.bulletin) if e.bulletin else (e.before or {}).get("title", "")
            entries.append(audit_row(e) | {"bulletin": e.bulletin, "title": title or e.detail})
            if len(entries) >= AUDIT_LIMIT:
                break
    return render(request, "bulletins/audit.html", {"entries": entries})
