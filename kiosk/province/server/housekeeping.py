"""What the server does on its own each minute: note the boards that went dark, halt a
rollout that boards roll back from and sign it again before it expires, sum the boards' new
plays over boards (rollup.py), delete the raw plays older than plays_raw_days (their daily
sums were made as they arrived), and remember the titles of the bulletins the site
publishes (so reports name them for years)."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

from django.db import connection, transaction

from kiosk.core.fleet import ONLINE_WINDOW
from kiosk.core.vietnamese import search_key
from kiosk.province.bulletins import audit
from kiosk.province.bulletins.models import Bulletin
from kiosk.province.bulletins.publishing import (
    PublishError,
    announce,
    channels_to_refresh,
    publish_channels,
)
from kiosk.province.exports import making as exports
from kiosk.province.fleet.expiry import expire_raw_plays
from kiosk.province.fleet.ingest import note_change
from kiosk.province.fleet.models import Board, ItemTitle
from kiosk.province.fleet.rollup import roll_up
from kiosk.province.fleet.steps import BUDGET_S, rest_for
from kiosk.province.provinceconf import ProvinceConfig
from kiosk.province.server.paging import batches
from kiosk.province.sitetitles import published_titles
from kiosk.province.updates import rollouts

log = logging.getLogger(__name__)
RESIGN_BATCH = 50  # channels signed again in one transaction


def note_dark_boards(now: datetime) -> int:
    """A board whose last heartbeat is older than ONLINE_WINDOW gets an "offline" line."""
    dark = Board.objects.filter(online_noted=True, last_heartbeat_at__lt=now - ONLINE_WINDOW)
    n = 0
    for board in dark:
        with transaction.atomic():
            locked = Board.objects.select_for_update().get(pk=board.pk)
            if locked.online_noted and now - locked.last_heartbeat_at >= ONLINE_WINDOW:
                note_change(locked.pk, locked.last_heartbeat_at + ONLINE_WINDOW, "offline", "")
                Board.objects.filter(pk=locked.pk).update(online_noted=False)
                n += 1
    return n


def remember_titles(site_dir: Path, now: datetime) -> int:
    """Bulletins new or retitled on the site into the database; returns how many."""
    titles = published_titles(site_dir)
    known = {(b.channel, b.item): b.title for b in ItemTitle.objects.all()}
    changed = {key: title for key, title in titles.items() if known.get(key) != title}
    with transaction.atomic():
        for (channel, item), title in changed.items():
            ItemTitle.objects.update_or_create(
                channel=channel,
                item=item,
                defaults={
                    "title": title[:300],
                    "title_key": search_key(title)[:300],
                    "seen_at": now,
                },
            )
    return len(changed)


def resign_channels(now: datetime, expires_days: int,
                    clock: Callable[[], float] = time.monotonic) -> list[str]:  # fmt: skip
    """The console's channels signed again with a new sequence (the same bulletins): those
    whose manifests have used half their life, so a quiet province's boards never reach
    their manifests' expires_at (SPEC 2.4) and go blank; those a failed publication left
    stale; those whose manifest the site lost. RESIGN_BATCH channels a transaction, resting
    between them on SQLite, at most BUDGET_S a run: the channels of 10,000 communes, all
    due the same week, would otherwise hold SQLite's write lock, and every heartbeat, for
    seconds (the rest go at the next run)."""
    names = channels_to_refresh(now, expires_days)
    signed: dict[str, int] = {}
    deadline = clock() + BUDGET_S
    for batch in batches(names, RESIGN_BATCH):
        try:
            with transaction.atomic():
                outcome = publish_channels(batch, now)
                audit.record(None, "republished", detail=outcome.detail())
        except PublishError as exc:  # the key or the site: no use trying the next batch
            log.error("housekeeping: channels %s not signed again: %s", ", ".join(batch), exc)
            break
        signed |= outcome.sequences
        if clock() >= deadline:
            break
        time.sleep(rest_for(connection.vendor))
    announce(signed)
    return list(signed)


def prune_uploads(folder: Path, now: datetime) -> int:
    """Images uploaded a day ago or more that no bulletin uses (a form abandoned, a picture
    replaced) are deleted, so the uploads folder holds what bulletins use and little more.
    A published image stays in the site's assets either way."""
    if not folder.is_dir():
        return 0
    used = set(Bulletin.objects.exclude(image_sha256="").values_list("image_sha256", flat=True))
    cutoff = now.timestamp() - 86400
    gone = 0
    for path in folder.iterdir():
        try:
            if path.name not in used and path.stat().st_mtime < cutoff:
                path.unlink()
                gone += 1
        except OSError as exc:
            log.warning("housekeeping: %s not removed: %s", path, exc)
    return gone


def prune_login_records(now: datetime) -> int:
    """django-axes' records bounded: failed attempts a day after the last (the lockout is
    15 minutes), the log of logins after a year."""
    from axes.models import AccessAttempt, AccessLog

    gone, _ = AccessAttempt.objects.filter(attempt_time__lt=now - timedelta(days=1)).delete()
    old, _ = AccessLog.objects.filter(attempt_time__lt=now - timedelta(days=366)).delete()
    return gone + old


def keep_rollout(now: datetime) -> None:
    """The rollout halted once too many boards rolled back from its version, and signed
    again before it expires (or when the site lost it). A failure here is logged, and the
    next minute tries again: the other chores do not wait for it."""
    try:
        rollouts.halt_if_failing(now)
        rollouts.resign_if_due(now)
    except (rollouts.RolloutRefused, OSError) as exc:
        log.error("housekeeping: the rollout could not be signed: %s", exc)


def run_once(now: datetime, config: ProvinceConfig) -> None:
    dark = note_dark_boards(now)
    keep_rollout(now)
    rolled = roll_up()
    expired = expire_raw_plays(now, now - timedelta(days=config.plays_raw_days))
    titled = remember_titles(config.site_dir, now)
    resigned = resign_channels(now, config.expires_days)
    prune_login_records(now)
    prune_uploads(config.uploads_path, now)
    exports.prune(now)
    if dark or rolled or expired or titled or resigned:
        log.info(
            "housekeeping: %d boards went dark, %d daily sums rolled up, %d raw plays expired, "
            "%d bulletins titled, "
            "%d channels signed again",
            dark,
            rolled,
            expired,
            titled,
            len(resigned),
        )
