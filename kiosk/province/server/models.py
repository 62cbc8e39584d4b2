"""What the province server keeps. Each table is bounded: a board's status history keeps its
last STATUS_HISTORY changes, raw plays are folded into daily sums after plays_raw_days, and
refused requests are counted in memory (refusals.py)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

STATUS_HISTORY = 200  # changes kept per board: years of a board that changes weekly
ROLES = ("admin", "approver", "author", "technician")


class Board(models.Model):
    """A board of the inventory, its token's hash, and what its last heartbeat said."""

    device_id = models.CharField(max_length=64, primary_key=True)
    unit_name = models.CharField(max_length=300)
    unit_kind = models.CharField(max_length=16)
    province_code = models.CharField(max_length=2)
    commune_code = models.CharField(max_length=5, blank=True)
    district = models.CharField(max_length=300, blank=True)
    health_url = models.CharField(max_length=300, blank=True)
    installed_on = models.DateField(null=True)
    # Off when the inventory no longer lists the board: its plays stay for the yearly
    # report, its token stops working.
    in_inventory = models.BooleanField(default=True)
    # SHA-256 of the board's token: tokens are 256 random bits, so a fast hash is the right
    # one (a slow password hash would cost every heartbeat), and the token is found by it.
    token_hash = models.CharField(max_length=64, blank=True, db_index=True)
    last_heartbeat_at = models.DateTimeField(null=True)
    status = models.CharField(max_length=16, blank=True)  # ok | degraded | failing
    problems = models.TextField(blank=True)  # the codes, space-separated (see codes())
    current_channel = models.CharField(max_length=64, blank=True)
    current_item = models.CharField(max_length=64, blank=True)
    current_title = models.CharField(max_length=300, blank=True)
    health = models.JSONField(null=True)  # the last /health document, as sent
    online_noted = models.BooleanField(default=False)  # the history's last word: online?
    commands_pending = models.PositiveIntegerField(default=0)
    # Plays this board sent that were not stored (SPEC 7.4: too far ahead, too old, too
    # long): a clock gone wrong or a board misbehaving, shown to technicians.
    plays_rejected = models.PositiveBigIntegerField(default=0)

    class Meta:
        ordering = ["device_id"]

    def codes(self) -> list[str]:
        """The problem codes of the last heartbeat (kept as text: compared at every one)."""
        return self.problems.split()


class StatusChange(models.Model):
    """A board's status or problems changed, it went dark, or it came back."""

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="changes")
    at = models.DateTimeField()
    status = models.CharField(max_length=16)  # ok | degraded | failing | offline
    problems = models.TextField(blank=True)  # the codes, space-separated

    def codes(self) -> list[str]:
        return self.problems.split()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [models.Index(fields=["board", "-at"])]


class Play(models.Model):
    """One showing of an item on a board (SPEC 1.6), as the board reported it."""

    board = models.ForeignKey(Board, on_delete=models.CASCADE)
    channel = models.CharField(max_length=64)
    item = models.CharField(max_length=64)
    started_at = models.DateTimeField()
    duration_s = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["board", "channel", "item", "started_at"], name="play_once"
            )
        ]
        indexes = [models.Index(fields=["started_at"])]


class PlayDay(models.Model):
    """Plays older than plays_raw_days, summed per board, item and day (province time)."""

    board = models.ForeignKey(Board, on_delete=models.CASCADE)
    channel = models.CharField(max_length=64)
    item = models.CharField(max_length=64)
    day = models.DateField()
    plays = models.PositiveIntegerField()
    seconds = models.FloatField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["board", "channel", "item", "day"], name="play_day_once"
            )
        ]
        indexes = [models.Index(fields=["day"])]


class ItemTitle(models.Model):
    """An item's title as the site published it, kept after it leaves the manifest, so
    proof of play names bulletins for years (read from site_dir by the housekeeping)."""

    channel = models.CharField(max_length=64)
    item = models.CharField(max_length=64)
    title = models.CharField(max_length=300)
    seen_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["channel", "item"], name="item_title_once")]


class Screenshot(models.Model):
    """The last screenshot a board sent when asked (a JPEG of at most 200 KiB)."""

    board = models.OneToOneField(Board, on_delete=models.CASCADE, primary_key=True)
    taken_at = models.DateTimeField()
    jpeg = models.BinaryField()


class Command(models.Model):
    """A harmless command for one board (SPEC 1.6), carried by its heartbeat replies until the
    board reports it done. At most one of each type waits per board."""

    TYPES = ("sync_now", "screenshot", "restart_player")
    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="commands")
    ident = models.CharField(max_length=64, unique=True)
    type = models.CharField(max_length=16, choices=[(t, t) for t in TYPES])
    requested_at = models.DateTimeField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    done_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["-requested_at"]


class Profile(models.Model):
    """An account's role, and the channels an author or approver may work on."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    role = models.CharField(max_length=16, choices=[(r, r) for r in ROLES])
    channels = models.JSONField(default=list)


class ApiToken(models.Model):
    """A token for `kiosk fleet ... --server`: only its SHA-256 is kept, as for boards."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True)


class Bulletin(models.Model):
    """A bulletin an officer writes: one item of SPEC 1.4 for one or more channels, through
    its two steps (an author submits, an approver publishes). Its item id on the wire is
    `bt-<pk>`, the same across edits, so proof of play follows it.

    The fields are the revision being worked on (`revision` counts edits); `aired` is the
    revision the boards show, frozen when an approver published it: editing a bulletin on
    air makes a new draft revision while the approved one stays on air (SPEC 7.4)."""

    KINDS = ("text", "image", "ticker")
    PRIORITIES = ("normal", "priority", "emergency")
    STATES = ("draft", "submitted", "published", "withdrawn")

    kind = models.CharField(max_length=8, choices=[(k, k) for k in KINDS])
    priority = models.CharField(max_length=12, choices=[(p, p) for p in PRIORITIES])
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
    state = models.CharField(max_length=12, choices=[(s, s) for s in STATES], default="draft")
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

    class Meta:
        ordering = ["-updated_at", "-id"]
        indexes = [models.Index(fields=["state"]), models.Index(fields=["origin", "origin_ref"])]

    @property
    def item_id(self) -> str:
        return f"bt-{self.pk}"

    @property
    def aired_channels(self) -> list[str]:
        return list(self.aired["channels"]) if self.aired else []


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

    at = models.DateTimeField(db_index=True)
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    username = models.CharField(max_length=150)  # kept if the account goes
    action = models.CharField(max_length=32)
    bulletin = models.ForeignKey(Bulletin, null=True, on_delete=models.SET_NULL)
    detail = models.CharField(max_length=500, blank=True)
    before = models.JSONField(null=True)
    after = models.JSONField(null=True)

    class Meta:
        ordering = ["-at", "-id"]
