"""What the province server keeps of its boards: the inventory's boards and their last
heartbeat, status history, plays and their daily sums, screenshots and commands. Each table
is bounded: a board's status history keeps its last STATUS_HISTORY changes, plays are summed
per day as they arrive and kept raw only plays_raw_days, and refused requests are counted in
memory (refusals.py)."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from kiosk.core.vietnamese import search_key

STATUS_HISTORY = 200  # changes kept per board: years of a board that changes weekly


def board_search(unit_name: str, district: str) -> str:
    """A board's name and district as the fleet page's search compares them."""
    return search_key(f"{unit_name} {district}")[:700]


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
    # Plays stored since the board was registered: /metrics' counter, kept as heartbeats
    # arrive so that a scrape never counts the plays table.
    plays_stored = models.PositiveBigIntegerField(default=0)
    # The latest started_at among the plays this board delivered. A board sends its plays
    # in the order it showed them (SPEC 1.6), so a play older than the raw plays kept and
    # not later than this was delivered before: a resend, not counted again (playsums.py).
    plays_through = models.DateTimeField(null=True)
    # The board's bit in the sets of boards that proof of play keeps (boardsets.py): given
    # once (numbering.py), never reused.
    number = models.PositiveIntegerField(unique=True, null=True)
    # Its name and district as a search compares them (vietnamese.search_key)
    search = models.CharField(max_length=700, blank=True, default="")
    # Its software as its last heartbeat said (SPEC 3.2 `software`): what the rollout page
    # counts. The failed versions are kept space-separated with a space at each end, so a
    # version is found with `contains=" 1.2.0 "`.
    software_version = models.CharField(max_length=64, blank=True, default="")
    software_state = models.CharField(max_length=16, blank=True, default="")
    software_target = models.CharField(max_length=64, blank=True, default="")
    software_failed = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["device_id"]

    def codes(self) -> list[str]:
        """The problem codes of the last heartbeat (kept as text: compared at every one)."""
        return self.problems.split()

    def save(self, *args, **kwargs) -> None:
        """A board made one at a time (the registry makes them in bulk, then numbers them
        with numbering.number_boards) gets the next number."""
        if self.number is None and self._state.adding:
            top = Board.objects.aggregate(top=models.Max("number"))["top"]
            self.number = 0 if top is None else top + 1
        self.search = board_search(self.unit_name, self.district)
        super().save(*args, **kwargs)


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
    """One showing of an item on a board (SPEC 1.6), as the board reported it, kept raw for
    plays_raw_days: a dispute about one board's day, and the proof that a resent batch is
    one already counted. Reports read PlayDay, never this table.

    The key is the play itself (no id, no index of its own for the board: the key starts
    with it); on PostgreSQL the table is partitioned by day of started_at, so expiry drops
    a partition (partitions.py)."""

    pk = models.CompositePrimaryKey("board_id", "channel", "item", "started_at")
    board = models.ForeignKey(Board, on_delete=models.CASCADE, db_index=False)
    channel = models.CharField(max_length=64)
    item = models.CharField(max_length=64)
    started_at = models.DateTimeField()
    duration_s = models.FloatField()

    class Meta:
        indexes = [models.Index(fields=["started_at"], name="play_started")]


class PlayDay(models.Model):
    """The plays of an item on a board on one day (the province's time), summed as they
    arrive: what the API's per-board sums read, and what the rollup sums over boards into
    ItemDay and ItemTotal. rolled_* is the part already in those: the rest is added by the
    next rollup, and meanwhile by every figure read (figures.py)."""

    pk = models.CompositePrimaryKey("board_id", "channel", "item", "day")
    board = models.ForeignKey(Board, on_delete=models.CASCADE, db_index=False)
    channel = models.CharField(max_length=64)
    item = models.CharField(max_length=64)
    day = models.DateField()
    plays = models.PositiveIntegerField()
    seconds = models.FloatField()
    rolled_plays = models.PositiveIntegerField(db_default=0)
    rolled_seconds = models.FloatField(db_default=0.0)

    class Meta:
        indexes = [  # small: the rows of the last minute or so
            models.Index(fields=["channel", "item"], name="play_day_unrolled",
                         condition=models.Q(plays__gt=models.F("rolled_plays")))
        ]  # fmt: skip


class ItemDay(models.Model):
    """An item's plays on one day in one area (a district, or the province where the
    inventory names none), summed over its boards, with the set of those boards: what the
    proof-of-play pages read for any range of days."""

    pk = models.CompositePrimaryKey("channel", "item", "day", "area")
    channel = models.CharField(max_length=64)
    item = models.CharField(max_length=64)
    day = models.DateField()
    area = models.CharField(max_length=300)
    plays = models.PositiveBigIntegerField(default=0)
    seconds = models.FloatField(default=0.0)
    boards = models.BinaryField(default=b"")  # boardsets.pack


class ItemTotal(models.Model):
    """An item's whole life on the boards of one area: its first and last day there, plays,
    seconds and boards. A report whose days hold the whole life reads these rows, not a row
    a day (the yearly report to the Department)."""

    pk = models.CompositePrimaryKey("channel", "item", "area")
    channel = models.CharField(max_length=64)
    item = models.CharField(max_length=64)
    area = models.CharField(max_length=300)
    first_day = models.DateField()
    last_day = models.DateField()
    plays = models.PositiveBigIntegerField(default=0)
    seconds = models.FloatField(default=0.0)
    boards = models.BinaryField(default=b"")

    class Meta:
        indexes = [models.Index(fields=["last_day", "first_day"], name="item_total_days")]


class ItemTitle(models.Model):
    """An item's title as the site published it, kept after it leaves the manifest, so
    proof of play names bulletins for years (read from site_dir by the housekeeping)."""

    channel = models.CharField(max_length=64)
    item = models.CharField(max_length=64)
    title = models.CharField(max_length=300)
    title_key = models.CharField(max_length=300, default="")  # vietnamese.search_key(title)
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

    class Type(models.TextChoices):  # SPEC 1.6
        SYNC_NOW = "sync_now", "Đồng bộ ngay"
        SCREENSHOT = "screenshot", "Chụp màn hình"
        RESTART_PLAYER = "restart_player", "Khởi động lại trình phát"

    board = models.ForeignKey(Board, on_delete=models.CASCADE, related_name="commands")
    ident = models.CharField(max_length=64, unique=True)
    type = models.CharField(max_length=16, choices=Type.choices)
    requested_at = models.DateTimeField()
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL)
    done_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["-requested_at"]
