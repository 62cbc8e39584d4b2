"""The province's rollout decisions (SPEC 8.2), each signed with the content key into the
site's releases/rollout.json, recorded in the database and the audit log.

An officer (or `kiosk province rollout`) starts a release on canary boards or a share of the
fleet, advances it through rolloutplan.STAGES, or halts it. The housekeeping halts it by
itself once `halt_after_failures` boards rolled back from its version, and signs the current
decision again when half its life is gone, so a quiet province's boards never hold an expired
rollout. Sequences only go up: above the database's and above whatever the site holds.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Max

from kiosk.core.fsutil import atomic_write
from kiosk.core.rolloutplan import BoardSoftware, Counts, count, next_percent, should_halt
from kiosk.core.signing import ROLLOUT_TYPE, load_private_key, sign_envelope
from kiosk.province.bulletins import audit
from kiosk.province.fleet.models import Board
from kiosk.province.publish import envelope_sequence
from kiosk.province.updates.models import Release, Rollout
from kiosk.province.updates.releases import write_release_documents

log = logging.getLogger(__name__)
SYSTEM = "hệ thống"  # who decided, when nobody did: the automatic halt


class RolloutRefused(ValueError):
    """A decision not taken. str() is for the command line; `vi` for the console."""

    def __init__(self, message: str, vi: str) -> None:
        super().__init__(message)
        self.vi = vi


@dataclass(frozen=True)
class Status:
    """The rollout page's figures: the decision in force and its version's counts."""

    rollout: Rollout | None
    counts: Counts | None
    running: dict[str, int]  # boards per version they run ("" : not reported)


def current() -> Rollout | None:
    return Rollout.objects.first()


def _site_sequence() -> int:
    """The sequence of the site's rollout.json, read leniently: a site restored from a newer
    copy than the database must not make boards refuse the next one as a replay."""
    try:
        sequence = envelope_sequence(settings.KIOSK_PROVINCE.site_dir / "releases" / "rollout.json")
    except ValueError:
        return 0
    return max(sequence, 0)


def _next_sequence() -> int:
    top = Rollout.objects.aggregate(top=Max("sequence"))["top"] or 0
    return max(top, _site_sequence()) + 1


def _sign_into_site(row: Rollout, now: datetime) -> None:
    """row gets the next sequence and a fresh life, and the site its signed document."""
    config = settings.KIOSK_PROVINCE
    try:
        key = load_private_key(config.signing_key)
    except ValueError as exc:
        raise RolloutRefused(
            f"the signing key cannot be used: {exc}",
            "Không dùng được khóa ký của tỉnh; chưa làm gì.",
        ) from None
    row.sequence = _next_sequence()
    row.issued_at = now.replace(microsecond=0)
    row.expires_at = row.issued_at + timedelta(days=config.expires_days)
    row.save()
    data = json.dumps(row.payload(), ensure_ascii=False, separators=(",", ":")).encode()
    atomic_write(config.site_dir / "releases" / "rollout.json",
                 sign_envelope(data, key, ROLLOUT_TYPE))  # fmt: skip


@contextmanager
def _one_at_a_time() -> Iterator[None]:
    """One transaction per decision. Two at the same moment (two admins, or an admin and
    the housekeeping) both take the next sequence; the row's unique sequence is saved before
    the site is written, so the second fails there, having written nothing."""
    try:
        with transaction.atomic():
            yield
    except IntegrityError:
        raise RolloutRefused(
            "another rollout was signed at the same moment: nothing done, look again",
            "Một quyết định khác vừa được ký cùng lúc; chưa làm gì. Hãy tải lại trang.",
        ) from None


def _decide(user, now: datetime, *, version: str, devices: list[str], percent: int,
            halted: str = "", reason: str = "") -> Rollout:  # fmt: skip
    by = user.username if user is not None and user.is_authenticated else SYSTEM
    with _one_at_a_time():
        row = Rollout(version=version, devices=sorted(set(devices)), percent=percent,
                      decided_at=now, decided_by=by, halted_version=halted,
                      halt_reason=reason[:300])  # fmt: skip
        _sign_into_site(row, now)
        if version:
            detail = (f"{version}: {len(row.devices)} bảng thử trước, {percent}% các bảng "
                      f"(số thứ tự {row.sequence})")  # fmt: skip
            audit.record(user, "rollout", detail=detail)
        else:
            detail = f"{halted} (số thứ tự {row.sequence}) {reason}".strip()
            audit.record(user, "rollout_halted", detail=detail)
    log.info("rollout %d: %s", row.sequence, row.payload())
    return row


def start(user, now: datetime, version: str, devices: list[str] | None = None,
          percent: int | None = None) -> Rollout:  # fmt: skip
    """VERSION to these canaries and/or this share; what is not given is kept when the
    rollout in force is of the same version, else none."""
    if not Release.objects.filter(version=version).exists():
        raise RolloutRefused(f"version {version} was never added (kiosk province release add)",
                             f"Chưa có bản phát hành {version}.")  # fmt: skip
    if percent is not None and not 0 <= percent <= 100:
        raise RolloutRefused("percent must be 0 to 100", "Tỷ lệ phải từ 0 đến 100.")
    same = current()
    same = same if same is not None and same.version == version else None
    if devices is None:
        devices = list(same.devices) if same else []
    unknown = sorted(set(devices) - set(Board.objects.filter(
        device_id__in=devices, in_inventory=True).values_list("device_id", flat=True)))  # fmt: skip
    if unknown:
        named = ", ".join(unknown[:5])
        raise RolloutRefused(
            f"not boards of the inventory: {named}", f"Không có trong danh sách bảng tin: {named}"
        )
    if percent is None:
        percent = same.percent if same else 0
    return _decide(user, now, version=version, devices=devices, percent=percent)


def advance(user, now: datetime) -> Rollout:
    """The next stage of the rollout in force (canaries, 10%, 50%, 100%)."""
    row = current()
    if row is None or not row.version:
        raise RolloutRefused("no rollout is in force", "Không có đợt triển khai nào đang chạy.")
    later = next_percent(row.percent)
    if later is None:
        raise RolloutRefused(f"{row.version} goes to every board already",
                             "Đợt triển khai đã tới mọi bảng tin.")  # fmt: skip
    return _decide(user, now, version=row.version, devices=list(row.devices), percent=later)


def halt(user, now: datetime, reason: str = "") -> Rollout:
    """Boards that have not started stop from starting; those that run it keep it (a newer
    release, or their own trial's roll-back, is how they leave it)."""
    row = current()
    if row is None or not row.version:
        raise RolloutRefused("no rollout is in force", "Không có đợt triển khai nào đang chạy.")
    return _decide(user, now, version="", devices=[], percent=0, halted=row.version,
                   reason=reason)  # fmt: skip


def rolled_back(version: str) -> int:
    """Boards that tried version and went back (in their failed_versions)."""
    return Board.objects.filter(in_inventory=True, software_failed__contains=f" {version} ").count()


def halt_if_failing(now: datetime) -> Rollout | None:
    """The halt that needs nobody: halt_after_failures boards rolled back from the version."""
    row = current()
    if row is None or not row.version:
        return None
    failures = rolled_back(row.version)
    if not should_halt(failures, settings.KIOSK_PROVINCE.halt_after_failures):
        return None
    log.warning("rollout of %s halted: %d boards rolled back from it", row.version, failures)
    return halt(None, now, reason=f"Tự dừng: {failures} bảng tin đã quay lại bản trước.")


def resign_if_due(now: datetime) -> Rollout | None:
    """The decision in force signed again when half its life is gone, or when the site lost
    its rollout.json: the same decision under a new sequence."""
    row = current()
    if row is None:
        return None
    days = settings.KIOSK_PROVINCE.expires_days
    if row.expires_at >= now + timedelta(days=days / 2) and _site_sequence() == row.sequence:
        return None
    with _one_at_a_time():
        _sign_into_site(row, now)
    return row


def restore_site(now: datetime) -> tuple[int, bool]:
    """After a lost or restored site: the release documents the database holds, and the
    rollout in force signed again if the site's is not it. Returns (documents written,
    rollout signed)."""
    written = write_release_documents(settings.KIOSK_PROVINCE.site_dir)
    return written, resign_if_due(now) is not None


def boards_by_version() -> dict[str, int]:
    """Boards of the inventory per version their last heartbeat reported ("": none)."""
    return dict(
        Board.objects.filter(in_inventory=True).values_list("software_version")
        .annotate(n=Count("device_id")).values_list("software_version", "n")
    )  # fmt: skip


def status() -> Status:
    """The figures of the rollout page, from one pass over the boards' software columns
    (five short columns of 10,000 rows: bench/rollout_page.py)."""
    row = current()
    running = boards_by_version()
    if row is None or not row.version:
        version = row.halted_version if row is not None else ""
        if not version:
            return Status(row, None, running)
        devices, percent = frozenset(), 0
    else:
        version, devices, percent = row.version, frozenset(row.devices), row.percent
    boards = (
        BoardSoftware(d, v, s, t, frozenset(f.split()))
        for d, v, s, t, f in Board.objects.filter(in_inventory=True).values_list(
            "device_id", "software_version", "software_state", "software_target",
            "software_failed").iterator(chunk_size=2000)
    )  # fmt: skip
    return Status(row, count(boards, version, devices, percent), running)
