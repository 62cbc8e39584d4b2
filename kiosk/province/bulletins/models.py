"""What the console keeps: bulletins and their revisions, the channels it publishes and the
last sequence issued for each, what was imported, and the audit log."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from kiosk.core.vietnamese import search_key


class Bulletin(models.Model):
    """A bulletin an officer writes: one item of SPEC 1.4 for one or more channels, through
    its two steps (an author submits, an approver publishes). Its item id on the wire is
    `bt-<pk>`, the same across edits, so proof of play follows it.

    The fields are the revision being worked on (`revision` counts edits); `aired` is the
    revision the boards show, frozen when an approver published it: editing a bulletin on
    air makes a new draft revision while the approved one stays on air (SPEC 7.4)."""

    class Kind(models.TextChoices):
        TEXT = "text", "Văn bản"
        IMAGE = "image", "Hình ảnh"
        TICKER = "ticker", "Chữ chạy"

    class Priority(models.TextChoices):  # SPEC 1.4's three levels
        NORMAL = "normal", "Thông thường"
        PRIORITY = "priority", "Ưu tiên"
        EMERGENCY = "emergency", "Khẩn cấp"

    class State(models.TextChoices):
        DRAFT = "draft", "Bản nháp"
        SUBMITTED = "submitted", "Chờ duyệt"
        PUBLISHED = "published", "Đang phát"
        WITHDRAWN = "withdrawn", "Đã gỡ"

    kind = models.CharField(max_length=8, choices=Kind.choices)
    priority = models.CharField(max_length=12, choices=Priority.choices)
    title = models.CharField(max_length=200, blank=True)
    body = models.TextField(blank=True)  # at most 5,000 characters (SPEC 1.4)
    ticker = models.CharField(max_length=500, blank=True)
    caption = models.CharField(max_length=300, blank=True)
    fit = models.CharField(max_length=8, default="contain")
    background = models.CharField(max_length=7, blank=True)
    image_sha256 = models.CharField(max_length=64, blank=True)  # the file is in uploads_dir
    image_size = models.PositiveBigIntegerField(null=True)
    image_type = models.CharField(max_length=16, blank=True)
    duration = models.FloatField(default=10)
    valid_from = models.DateTimeField(null=True, blank=True)
    valid_until = models.DateTimeField(null=True, blank=True)
    days = models.JSONField(default=list, blank=True)  # ISO weekdays; empty: every day
    hours = models.JSONField(default=list, blank=True)  # "HH:MM-HH:MM"; empty: all day
    channels = models.JSONField(default=list)
    state = models.CharField(max_length=12, choices=State.choices, default=State.DRAFT)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    edited_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True)
    published_at = models.DateTimeField(null=True)
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True)
    note = models.CharField(max_length=500, blank=True)  # an approver's reason for returning it
    # Where an imported draft came from ("cap" or "feed") and its id there, so an import
    # run twice creates nothing the second time.
    origin = models.CharField(max_length=8, blank=True)
    origin_ref = models.CharField(max_length=500, blank=True)
    revision = models.PositiveIntegerField(default=1)
    # {"revision": n, "item": the playlist item, "channels": [...]} while on air, else null
    aired = models.JSONField(null=True, blank=True)
    # The words of its title, ticker and caption as a search compares them (search_key):
    # kept by save(), so lists search in the database, any case, with or without marks.
    search = models.CharField(max_length=700, blank=True, editable=False)

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["state"]), models.Index(fields=["origin", "origin_ref"]),
                   models.Index(fields=["-updated_at", "-id"], name="bulletin_updated"),
                   models.Index(fields=["published_at"], name="bulletin_published")]  # fmt: skip

    SEARCHED = ("title", "ticker", "caption")

    def save(self, *args, **kwargs) -> None:
        """Keeps search and the channel rows (BulletinChannel) with the bulletin."""
        self.search = search_key(" ".join(getattr(self, f) for f in self.SEARCHED))[:700]
        fields = kwargs.get("update_fields")
        if fields is not None and set(fields) & set(self.SEARCHED):
            kwargs["update_fields"] = [*fields, "search"]
        super().save(*args, **kwargs)
        wanted = set(self.channels)
        have = set(self.channel_rows.values_list("channel", flat=True))
        if wanted != have:
            self.channel_rows.exclude(channel__in=wanted).delete()
            BulletinChannel.objects.bulk_create(
                [BulletinChannel(bulletin=self, channel=c) for c in sorted(wanted - have)]
            )

    @property
    def item_id(self) -> str:
        return f"bt-{self.pk}"

    @property
    def aired_channels(self) -> list[str]:
        return list(self.aired["channels"]) if self.aired else []


class BulletinChannel(models.Model):
    """One of a bulletin's channels, a row each (Bulletin.save keeps them), so the lists
    find an officer's bulletins in the database, a page at a time."""

    bulletin = models.ForeignKey(Bulletin, on_delete=models.CASCADE, related_name="channel_rows")
    channel = models.CharField(max_length=64, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["bulletin", "channel"], name="bulletin_channel_once")
        ]


class Channel(models.Model):
    """A channel the console publishes: the last sequence issued for it (the truth: a
    publication never goes at or below it, whatever the site holds), and a row to lock so
    two approvers publishing at once write one sequence after the other."""

    name = models.CharField(max_length=64, primary_key=True)
    sequence = models.PositiveIntegerField(default=0)
    published_at = models.DateTimeField(null=True)
    expires_at = models.DateTimeField(null=True)
    # The site does not carry what the database says (a write failed after another channel
    # of the same publication went out): the housekeeping writes it again.
    stale = models.BooleanField(default=False)


class Imported(models.Model):
    """Every CAP alert and feed entry ever imported, by its reference ("sender,identifier"
    for CAP), kept when its bulletin is deleted: an officer's deletion stays a deletion when
    the same alert or entry is imported again (SPEC 7.4)."""

    origin = models.CharField(max_length=8)  # cap | feed
    ref = models.CharField(max_length=500)
    bulletin = models.ForeignKey(Bulletin, null=True, on_delete=models.SET_NULL)
    at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["origin", "ref"], name="imported_once")]


class AuditEntry(models.Model):
    """Who did what to which bulletin, when, and the bulletin before and after. Never
    edited; a bulletin's entries outlive it (yearly reports, disputes)."""

    class Action(models.TextChoices):
        CREATED = "created", "Tạo bản tin"
        EDITED = "edited", "Sửa"
        SUBMITTED = "submitted", "Gửi duyệt"
        RETURNED = "returned", "Trả lại tác giả"
        PUBLISHED = "published", "Xuất bản"
        WITHDRAWN = "withdrawn", "Gỡ xuống"
        DELETED = "deleted", "Xóa bản nháp"
        IMPORTED = "imported", "Nhập tự động"
        REPUBLISHED = "republished", "Ký lại kênh"
        REFUSED = "refused", "Từ chối cảnh báo CAP"
        UNLOCKED = "unlocked", "Mở khóa đăng nhập"
        PASSWORD_RESET = "password_reset", "Đặt lại mật khẩu"
        DISABLED = "disabled", "Khóa tài khoản"
        RELEASE_ADDED = "release_added", "Thêm bản phát hành phần mềm"
        ROLLOUT = "rollout", "Triển khai cập nhật phần mềm"
        ROLLOUT_HALTED = "rollout_halted", "Dừng triển khai cập nhật"

    at = models.DateTimeField(db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    username = models.CharField(max_length=150)  # kept if the account goes
    action = models.CharField(max_length=32, choices=Action.choices)
    bulletin = models.ForeignKey(Bulletin, null=True, on_delete=models.SET_NULL)
    detail = models.CharField(max_length=500, blank=True)
    before = models.JSONField(null=True)
    after = models.JSONField(null=True)

    class Meta:
        ordering = ["-at", "-id"]
