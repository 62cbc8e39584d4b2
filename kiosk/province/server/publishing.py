"""Publishing from the console: each channel a bulletin goes to is rebuilt from the
bulletins published for it, as a playlist (SPEC 5) handed to kiosk publish's own code
(kiosk.province.publish: the same checks, sequence, signature, atomic writes), then
announced for push (SPEC 1.7).

The channel rows are locked while the site is written, so two approvers publishing at once
write one sequence after the other. The signing key is read at each publication and kept
nowhere else: not in a page, a log, the audit log or the database."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction

from kiosk.cli import UsageError
from kiosk.core.authoring import Playlist, parse_playlist
from kiosk.core.model import MAX_ITEMS
from kiosk.core.signing import load_private_key
from kiosk.province.publish import publish_playlist
from kiosk.province.server.bulletins import authored
from kiosk.province.server.models import Bulletin, Channel
from kiosk.province.server.uploads import uploads_dir

log = logging.getLogger(__name__)
ANNOUNCE_DEADLINE_S = 5.0


class PublishError(Exception):
    """Nothing was published; the message is for the officer (Vietnamese)."""


def on_air(b: Bulletin, now: datetime) -> bool:
    """Published, and not past its valid_until (an expired bulletin leaves the manifest at
    the next publication of its channel)."""
    return b.state == "published" and not (b.valid_until and b.valid_until <= now)


def channel_playlist(channel: str, bulletins: Iterable[Bulletin], now: datetime) -> Playlist:
    items = [
        authored(b)
        for b in sorted(bulletins, key=lambda b: (b.published_at or now, b.pk))
        if channel in b.channels and on_air(b, now)
    ]
    if len(items) > MAX_ITEMS:
        raise PublishError(
            f"Kênh {channel} đã có {len(items)} bản tin đang phát; tối đa {MAX_ITEMS}. "
            "Hãy gỡ bớt bản tin cũ."
        )
    # The playlist's file sits in uploads_dir, so each image's `file` is found there.
    return parse_playlist({"channel": channel, "items": items}, uploads_dir() / "console.toml")


def publish_channels(channels: Iterable[str], now: datetime) -> dict[str, int]:
    """Rebuild, sign and write these channels; {channel: new sequence}. Called inside the
    caller's transaction, after the bulletins' new states are saved."""
    config = settings.KIOSK_PROVINCE
    names = sorted(set(channels))
    if not names:
        return {}
    try:
        key = load_private_key(config.signing_key)
    except ValueError as exc:
        log.error("publishing: the signing key cannot be used: %s", exc)
        raise PublishError(
            "Không dùng được khóa ký của tỉnh; chưa xuất bản gì. Báo cho quản trị hệ thống."
        ) from None
    sequences: dict[str, int] = {}
    with transaction.atomic():
        for name in names:
            Channel.objects.get_or_create(name=name)
        rows = {c.name: c for c in Channel.objects.select_for_update().filter(name__in=names)}
        bulletins = list(Bulletin.objects.filter(state="published"))
        for name in names:
            playlist = channel_playlist(name, bulletins, now)
            if playlist.errors:
                log.error("publishing %s: %s", name, "; ".join(playlist.errors))
                raise PublishError(f"Kênh {name} có bản tin không hợp lệ; chưa xuất bản gì.")
            try:
                done = publish_playlist(playlist, key, config.site_dir, now, config.expires_days)
            except (UsageError, OSError) as exc:
                log.error("publishing %s: %s", name, exc)
                raise PublishError(f"Không ghi được kênh {name} ra trang tĩnh.") from None
            row = rows[name]
            row.sequence, row.published_at, row.expires_at = done.sequence, now, done.expires_at
            row.save()
            sequences[name] = done.sequence
    return sequences


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


def channels_to_refresh(now: datetime, expires_days: int) -> list[str]:
    """Channels whose signed manifest has used half its life: re-signed by the housekeeping,
    so a board never reaches expires_at (SPEC 2.4) while the province is quiet."""
    margin = timedelta(days=expires_days / 2)
    return list(Channel.objects.filter(expires_at__lt=now + margin).values_list("name", flat=True))
