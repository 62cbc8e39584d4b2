"""The "Cập nhật phần mềm" page (admins only): the releases, the rollout in force and its
version's boards, and the three decisions (start, next stage, halt), each signed into the
site at once and written in the audit log (rollouts.py)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST
from packaging.version import Version

from kiosk.core.rolloutplan import next_percent
from kiosk.province.accounts.views import for_roles
from kiosk.province.updates import rollouts
from kiosk.province.updates.forms import StartForm
from kiosk.province.updates.models import Release, Rollout

HISTORY = 20  # decisions shown


def stage_text(row: Rollout | None) -> str:
    if row is None:
        return "Chưa triển khai bản nào."
    if not row.version:
        return f"Đã dừng triển khai bản {row.halted_version}." if row.halted_version else "Đã dừng."
    canaries = f"{len(row.devices)} bảng thử trước" if row.devices else ""
    share = f"{row.percent}% các bảng" if row.percent else ""
    return f"Bản {row.version}: " + " và ".join(p for p in (canaries, share) if p) + "."


@require_GET
@for_roles("admin")
def updates_page(request: HttpRequest) -> HttpResponse:
    return _page(request, StartForm())


def _page(request: HttpRequest, form: StartForm, status: int = 200) -> HttpResponse:
    now = timezone.now()
    state = rollouts.status()
    releases = sorted(Release.objects.all(), key=lambda r: Version(r.version), reverse=True)
    row = state.rollout
    later = next_percent(row.percent) if row is not None and row.version else None
    return render(request, "updates/updates.html", {
        "releases": [(r, state.running.get(r.version, 0)) for r in releases],
        "not_reported": state.running.get("", 0),
        "rollout": row,
        "stage": stage_text(row),
        "counts": state.counts,
        "later": later,
        "expired": row is not None and row.expires_at <= now,
        "history": Rollout.objects.all()[:HISTORY],
        "form": form,
        "halt_after": settings.KIOSK_PROVINCE.halt_after_failures,
    }, status=status)  # fmt: skip


def _decided(request: HttpRequest, decision, *args) -> HttpResponse:
    try:
        row = decision(request.user, timezone.now(), *args)
    except rollouts.RolloutRefused as exc:
        messages.error(request, exc.vi or str(exc))
    except OSError:
        messages.error(request, "Không ghi được ra trang tĩnh; chưa làm gì. Báo quản trị hệ thống.")
    else:
        messages.success(request, f"Đã ký đợt triển khai số {row.sequence}: {stage_text(row)}")
    return redirect("updates")


@require_POST
@for_roles("admin")
def rollout_start(request: HttpRequest) -> HttpResponse:
    form = StartForm(request.POST)
    if not form.is_valid():
        return _page(request, form, status=400)  # the page again, with the form's errors
    data = form.cleaned_data
    return _decided(request, rollouts.start, data["version"], data["devices"], data["percent"])


@require_POST
@for_roles("admin")
def rollout_advance(request: HttpRequest) -> HttpResponse:
    return _decided(request, rollouts.advance)


@require_POST
@for_roles("admin")
def rollout_halt(request: HttpRequest) -> HttpResponse:
    return _decided(request, rollouts.halt)
