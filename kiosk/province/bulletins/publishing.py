"""Publishing from the console: each channel a bulletin goes to is rebuilt from the
revisions on air for it (Bulletin.aired), as a playlist (SPEC 5) handed to kiosk publish's
own code (kiosk.province.publish: the same checks, signature, atomic writes), then announced
for push (SPEC 1.7).

What SPEC 7.4 promises, and how:
- Sequences never go back: the Channel row holds the last sequence issued, and the next is
  one past the larger of it and what the site holds, so a lost or restored site_dir cannot
  make a publication that boards reject as a rollback. The site is written from the
  database (rebuild_site), never the other way round.
- All or nothing: every channel of a publication is signed and written beside its place
  before any becomes visible, so a signing or write error leaves every channel as it was.
  Only the last step, a rename per channel, can fail after another channel went out; then
  the channels that went out are on air, the rest are marked stale, the outcome says which
  (for the officer and the audit log) and the housekeeping writes the stale ones again.

The channel rows are locked while the site is written, so two approvers publishing at once
write one sequence after the other. The signing key is read at each publication and kept
nowhere else: not in a page, a log, the audit log or the database."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db import transaction

from kiosk.core.authoring import Playlist, parse_playlist
from kiosk.core.errors import UsageError
from kiosk.core.fsutil import atomic_write
from kiosk.core.model import MAX_ITEMS
from kiosk.core.signing import load_private_key
from kiosk.core.timeutil import parse_rfc3339
from kiosk.province.bulletins.models import Bulletin, Channel
from kiosk.province.bulletins.targets import commune_channel, province_channel
from kiosk.province.bulletins.uploads import uploads_dir
from kiosk.province.fleet.models import Board
from kiosk.province.publish import StagedChannel, read_sequence, stage_channel

log = logging.getLogger(__name__)
ANNOUNCE_DEADLINE_S = 5.0


class PublishError(Exception):
    """Nothing was published; the message is for the officer (Vietnamese)."""


@dataclass
class Outcome:
    """What a publication did: the channels now on air with their new sequences, and those
    whose site could not be switched (stale: the housekeeping writes them again)."""

    sequences: dict[str, int] = field(default_factory=dict)
    failed: list[str] = field(default_factory=list)

    def detail(self) -> str:
        """In Vietnamese, for the audit log and the officer: exactly what is on air."""
        parts = []
        if self.sequences:
            parts.append("Đã lên bảng tin: " + ", ".join(
                f"{c} số {n}" for c, n in self.sequences.items()))  # fmt: skip
        if self.failed:
            parts.append(
                "CHƯA lên được: " + ", ".join(self.failed) + " (hệ thống tự ghi lại mỗi phút)"
            )
        return ". ".join(parts)


def aired_item(b: Bulletin) -> dict:
    return b.aired["item"]


def on_air(b: Bulletin, now: datetime) -> bool:
    """A revision is on air, and not past its valid_until (an expired bulletin leaves the
    manifest at the next publication of its channel)."""
    if not b.aired:
        return False
    until = aired_item(b).get("valid_until")
    return not (until and parse_rfc3339(until) <= now)


def _image_at_hand(sha: str) -> bool:
    """An image's upload, brought back from the site's assets (the same bytes, named by the
    same hash) when the uploads folder lost it; False when neither has it."""
    upload = uploads_dir() / sha
    if upload.exists():
        return True
    asset = Path(settings.KIOSK_PROVINCE.site_dir) / "assets" / sha
    try:
        atomic_write(upload, asset.read_bytes(), mode=0o640)
    except OSError as exc:
        log.error("publishing: image %s is in neither the uploads nor the site: %s", sha, exc)
        return False
    return True


def channel_playlist(channel: str, bulletins: Iterable[Bulletin], now: datetime) -> Playlist:
    items = []
    for b in sorted(bulletins, key=lambda b: (b.published_at or now, b.pk)):
        if channel not in b.aired_channels or not on_air(b, now):
            continue
        item = aired_item(b)
        if item.get("type") == "image" and not _image_at_hand(item["file"]):
            # Lost with a disk, in neither uploads_dir nor the site: the channel's other
            # bulletins (an emergency among them) must still go out.
            log.error("publishing %s: %s's image %s is lost; left out", channel, b.item_id,
                      item["file"])  # fmt: skip
            continue
        items.append(item)
    if len(items) > MAX_ITEMS:
        raise PublishError(
            f"Kênh {channel} đã có {len(items)} bản tin đang phát; tối đa {MAX_ITEMS}. "
            "Hãy gỡ bớt bản tin cũ."
        )
    # The playlist's file sits in uploads_dir, so each image's `file` is found there.
    return parse_playlist({"channel": channel, "items": items}, uploads_dir() / "console.toml")


def next_sequence(row: Channel, site: Path) -> int:
    """One past the last sequence issued (the database's) or held (the site's, when it can
    be read: `kiosk publish` by hand may have gone further)."""
    try:
        held = read_sequence(site, row.name)
    except ValueError as exc:
        log.warning("publishing %s: %s; the database's sequence is used", row.name, exc)
        held = 0
    return max(row.sequence, held) + 1


def _stage(names: list[str], rows: dict[str, Channel], now: datetime) -> list[StagedChannel]:
    """Every channel signed and written beside its place; PublishError, with nothing left
    behind, when any one cannot be."""
    config = settings.KIOSK_PROVINCE
    try:
        key = load_private_key(config.signing_key)
    except ValueError as exc:
        log.error("publishing: the signing key cannot be used: %s", exc)
        raise PublishError(
            "Không dùng được khóa ký của tỉnh; chưa xuất bản gì. Báo cho quản trị hệ thống."
        ) from None
    bulletins = list(Bulletin.objects.filter(aired__isnull=False))
    staged: list[StagedChannel] = []
    try:
        for name in names:
            playlist = channel_playlist(name, bulletins, now)
            if playlist.errors:
                log.error("publishing %s: %s", name, "; ".join(playlist.errors))
                raise PublishError(f"Kênh {name} có bản tin không hợp lệ; chưa xuất bản gì.")
            sequence = next_sequence(rows[name], config.site_dir)
            site, days = config.site_dir, config.expires_days
            try:
                staged.append(stage_channel(playlist, key, site, now, days, sequence))
            except (UsageError, OSError, ValueError) as exc:
                log.error("publishing %s: %s", name, exc)
                raise PublishError(
                    f"Không ghi được kênh {name} ra trang tĩnh; chưa xuất bản gì."
                ) from None
    except BaseException:
        for s in staged:
            s.discard()
        raise
    return staged


def publish_channels(channels: Iterable[str], now: datetime) -> Outcome:
    """Rebuild, sign and write these channels, all or none (see the module's docstring).
    Called inside the caller's transaction, after the bulletins' new states are saved;
    PublishError when none went out."""
    names = sorted(set(channels))
    outcome = Outcome()
    if not names:
        return outcome
    with transaction.atomic():
        for name in names:
            Channel.objects.get_or_create(name=name)
        rows = {c.name: c for c in Channel.objects.select_for_update().filter(name__in=names)}
        staged = _stage(names, rows, now)
        for s in staged:
            row, done = rows[s.published.channel], s.published
            row.sequence = done.sequence  # issued, whether or not it goes out
            try:  # past one failure the rest still go: nearer "all" than "none" now
                s.promote()
                switched = True
            except OSError as exc:
                log.error("publishing %s: not switched: %s", row.name, exc)
                switched = False
            if switched:
                outcome.sequences[row.name] = done.sequence
                row.published_at, row.expires_at, row.stale = now, done.expires_at, False
            else:
                s.discard()
                outcome.failed.append(row.name)
                row.stale = True
            row.save()
    return outcome


def announce(sequences: dict[str, int]) -> bool:
    """Tell the boards through the broker (when PROVINCE.toml has [push]); False when the
    broker could not be told (the boards find the content at their next poll)."""
    url = settings.KIOSK_PROVINCE.push_url
    if not url or not sequences:
        return True
    from kiosk.province.notify import NotifyError
    from kiosk.province.notify import announce as notify

    try:
        notify(url, sequences, ANNOUNCE_DEADLINE_S)
    except NotifyError as exc:
        log.warning("push: %s", exc)
        return False
    return True


def inventory_channels() -> set[str]:
    """The channels the inventory's boards list by the naming of docs/protocol.md: their
    province's and their commune's."""
    channels: set[str] = set()
    places = Board.objects.filter(in_inventory=True).values_list("province_code", "commune_code")
    for province, commune in places.distinct():
        channels.add(province_channel(province))
        if commune:
            channels.add(commune_channel(commune))
    return channels


def never_published() -> list[str]:
    """Inventory channels with no sequence issued yet. Each gets a signed, empty manifest, so
    a new board finds every channel it lists (a 404 would be sync_failing: "Có vấn đề" on a
    board that is fine) before any officer has written for it."""
    issued = set(Channel.objects.filter(sequence__gt=0).values_list("name", flat=True))
    return sorted(inventory_channels() - issued)


def channels_to_refresh(now: datetime, expires_days: int) -> list[str]:
    """Channels whose signed manifest has used half its life (re-signed so a board never
    reaches expires_at (SPEC 2.4) while the province is quiet), that a failed publication
    left stale, whose manifest is gone from the site (a lost or replaced disk), or that the
    inventory lists but nobody has published yet."""
    margin = timedelta(days=expires_days / 2)
    site = Path(settings.KIOSK_PROVINCE.site_dir) / "channels"
    rows = Channel.objects.filter(sequence__gt=0).values_list("name", "expires_at", "stale")
    return [
        name
        for name, expires_at, stale in rows
        if stale
        or (expires_at is not None and expires_at < now + margin)
        or not (site / name / "manifest.json").exists()
    ] + never_published()


def channels_behind(site: Path) -> list[str]:
    """Channels the site holds behind the database: missing, unreadable, below the last
    sequence issued (an older copy restored), or left stale by a failed publication. A
    site ahead of the database (`kiosk publish` run by hand into it) is left alone: the
    next publication goes past it."""
    behind = []
    for name, sequence, stale in Channel.objects.filter(sequence__gt=0).values_list(
        "name", "sequence", "stale"
    ):
        try:
            held = read_sequence(site, name)
        except ValueError:
            held = -1
        if stale or held < sequence:
            behind.append(name)
    return behind


def rebuild_site(now: datetime, every: bool = False) -> Outcome:
    """The static site written again from the database: the channels it does not hold as
    the database says (every channel with `every`), each at a sequence above anything issued
    or held, so boards take it; and an empty manifest for each inventory channel never
    published."""
    site = Path(settings.KIOSK_PROVINCE.site_dir)
    if every:
        names = list(Channel.objects.filter(sequence__gt=0).values_list("name", flat=True))
    else:
        names = channels_behind(site)
    return publish_channels(names + never_published(), now)
