"""A bulletin of the console as the other parts need it: as a playlist item (SPEC 5, so
publishing goes through kiosk publish's own code), as rules' facts, as an audit snapshot,
and in Vietnamese words."""

from __future__ import annotations

from datetime import datetime, tzinfo
from typing import Any

from django.db.models import Exists, OuterRef, QuerySet

from kiosk.core.model import parse_item
from kiosk.core.schedule import next_showing
from kiosk.core.vietnamese import WEEKDAYS, moment_text
from kiosk.province.accounts.rights import WRITERS, Facts, Officer
from kiosk.province.bulletins.models import Bulletin, BulletinChannel

# ISO weekday numbers (SPEC 1.4's `days`) with their names
WEEKDAY_CHOICES = [(n, name) for n, name in enumerate(WEEKDAYS, start=1)]


def authored(b: Bulletin) -> dict[str, Any]:
    """The bulletin as a playlist item (SPEC 5): an image names its file in uploads_dir."""
    item: dict[str, Any] = {
        "id": b.item_id,
        "type": b.kind,
        "priority": b.priority,
        "duration": b.duration,
    }
    if b.valid_from:
        item["valid_from"] = b.valid_from.isoformat()
    if b.valid_until:
        item["valid_until"] = b.valid_until.isoformat()
    if b.days:
        item["days"] = list(b.days)
    if b.hours:
        item["hours"] = list(b.hours)
    if b.kind == "text":
        item |= {"title": b.title, "body": b.body}
    elif b.kind == "image":
        item |= {"file": b.image_sha256, "fit": b.fit, "caption": b.caption}
        if b.background:
            item["background"] = b.background
    else:
        item["text"] = b.ticker
    return item


def visible(me: Officer, rows: QuerySet[Bulletin]) -> QuerySet[Bulletin]:
    """The bulletins of rows this officer sees (Officer.sees, asked of the database)."""
    if me.role not in WRITERS:
        return rows.none()
    if me.role == "admin" or not me.channels:
        return rows
    mine = BulletinChannel.objects.filter(bulletin=OuterRef("pk"), channel__in=me.channels)
    return rows.filter(Exists(mine))


def officer(user) -> Officer:
    if user.is_superuser:
        return Officer(user.username, "admin")
    profile = getattr(user, "profile", None)
    if profile is None:
        return Officer(user.username, "")
    return Officer(user.username, profile.role, frozenset(profile.channels or ()))


def username_of(user) -> str:
    return user.username if user is not None else ""


def facts(b: Bulletin) -> Facts:
    return Facts(
        author=username_of(b.author),
        edited_by=username_of(b.edited_by),
        state=b.state,
        priority=b.priority,
        channels=frozenset(b.channels),
        ever_published=b.published_at is not None,
        on_air=frozenset(b.aired_channels),
    )


def snapshot(b: Bulletin) -> dict[str, Any]:
    """What the audit log keeps of a bulletin, before and after an action."""
    return {
        **authored(b),
        "channels": list(b.channels),
        "revision": b.revision,
        "state": b.state,
        "author": username_of(b.author),
        "edited_by": username_of(b.edited_by),
        "published_by": username_of(b.published_by),
        "note": b.note,
    }


def aired(b: Bulletin) -> dict[str, Any]:
    """The revision an approver publishes, frozen as it is now: what boards show until a
    later revision is approved or the bulletin is taken off air."""
    return {"revision": b.revision, "item": authored(b), "channels": list(b.channels)}


FIELD_VI = {
    "title": "Tiêu đề", "body": "Nội dung", "text": "Chữ chạy", "caption": "Chú thích",
    "file": "Ảnh", "fit": "Cách đặt ảnh", "background": "Màu nền", "type": "Loại",
    "priority": "Mức độ", "duration": "Mỗi lượt (giây)", "valid_from": "Hiện từ",
    "valid_until": "Hiện đến", "days": "Ngày trong tuần", "hours": "Khung giờ",
    "channels": "Nơi nhận",
}  # fmt: skip


def changes(seen: dict[str, Any], now: dict[str, Any]) -> list[tuple[str, str, str]]:
    """What differs between two snapshots, as (field, before, after) in Vietnamese: what an
    approver is shown when the bulletin changed under their eyes."""

    def shown(value: Any) -> str:
        if value in (None, "", []):
            return "—"
        return ", ".join(map(str, value)) if isinstance(value, list) else str(value)

    return [
        (label, shown(seen.get(key)), shown(now.get(key)))
        for key, label in FIELD_VI.items()
        if seen.get(key) != now.get(key)
    ]


def headline(b: Bulletin) -> str:
    """What lists call the bulletin."""
    text = b.title or b.caption or b.ticker or b.body
    text = " ".join(text.split())
    return (text[:80] + "…") if len(text) > 80 else (text or f"Bản tin {b.pk}")


SCHEDULE_KEYS = ("priority", "valid_from", "valid_until", "days", "hours")


def shows_next(item: dict[str, Any], now: datetime, tz: tzinfo) -> datetime | None:
    """When an item (as authored or aired) first shows from now by its schedule, read by the
    board's own parser and schedule: now, a later moment, or None when never again."""
    schedule = {k: item[k] for k in SCHEDULE_KEYS if item.get(k) is not None}
    if schedule.keys() <= {"priority"}:  # no schedule: always (a year's report asks often)
        return now
    return next_showing(parse_item({"id": "x", "type": "ticker", "text": "x"} | schedule),
                        now, tz)  # fmt: skip


def schedule_passed(b: Bulletin, now: datetime, tz: tzinfo) -> bool:
    """The revision being written or approved can never show: its whole schedule is past."""
    return shows_next(authored(b), now, tz) is None


STATE_VI = dict(Bulletin.State.choices)


def state_text(b: Bulletin, now: datetime, tz: tzinfo) -> str:
    """The state as an officer reads it: "Đang phát" only while boards can show the revision
    on air now; otherwise when it will show, or that its schedule has passed."""
    if b.state != Bulletin.State.PUBLISHED or not b.aired:
        return STATE_VI[b.state]
    when = shows_next(b.aired["item"], now, tz)
    if when is None:
        return "Đã hết lịch phát"
    if when <= now:
        return "Đang phát"
    return f"Đã duyệt, phát từ {moment_text(when.astimezone(tz))}"
