"""`kiosk run`: the one place where configuration, content, screen and player are wired."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import signal
import tempfile
import threading
from datetime import UTC, datetime
from pathlib import Path

import pygame

from kiosk.authoring import FileAssets, PlaylistError, load_playlist
from kiosk.cli import UsageError
from kiosk.config import Config, default_config, load_config
from kiosk.content import Content, ContentBox
from kiosk.display import PygameDisplay
from kiosk.paths import SAMPLE_PLAYLISTS, user_cache_dir
from kiosk.player import Player
from kiosk.preview import parse_size
from kiosk.render.screen import Orientation
from kiosk.schedule import ChannelContent

log = logging.getLogger(__name__)


class MergedAssets:
    """Assets of several playlists, looked up in turn."""

    def __init__(self, parts: list[FileAssets]) -> None:
        self.parts = parts

    def path(self, sha256: str) -> Path | None:
        for part in self.parts:
            found = part.path(sha256)
            if found is not None:
                return found
        return None


def load_local_content(folder: Path, channels: tuple[str, ...]) -> Content:
    """The configured channels from authoring playlists (*.toml) in a folder, in the
    configured order. Bad items are skipped and logged; the rest plays."""
    found: dict[str, ChannelContent] = {}
    assets: list[FileAssets] = []
    for path in sorted(folder.glob("*.toml")):
        try:
            playlist = load_playlist(path)
        except PlaylistError as exc:
            log.error("skipping playlist: %s", exc)
            continue
        for problem in playlist.errors:
            log.error("item_invalid: %s", problem)
        if playlist.channel not in channels:
            log.info("%s: channel %s is not subscribed; ignored", path, playlist.channel)
            continue
        if playlist.channel in found:
            log.error(
                "%s: channel %s is already given by another file; ignored", path, playlist.channel
            )
            continue
        found[playlist.channel] = ChannelContent(playlist.channel, playlist.items)
        assets.append(playlist.assets)
    for name in channels:
        if name not in found:
            log.warning("no playlist for channel %s in %s", name, folder)
    ordered = tuple(found[name] for name in channels if name in found)
    return Content(ordered, MergedAssets(assets))


def save_snapshot(path: Path, frame: pygame.Surface) -> None:
    """The picture as the public sees it, replaced atomically (never a half-written PNG)."""
    fd, tmp = tempfile.mkstemp(prefix=".snapshot-", suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        pygame.image.save(frame, tmp)
        os.replace(tmp, path)
    except (OSError, pygame.error) as exc:
        log.warning("cannot write the snapshot %s: %s", path, exc)
        Path(tmp).unlink(missing_ok=True)


def _config(args: argparse.Namespace) -> tuple[Config, Path | None]:
    """The configuration and the local playlists folder to play, if any."""
    if args.config:
        config = load_config(Path(args.config))
        playlists = Path(args.playlists) if args.playlists else None
    else:
        config = dataclasses.replace(default_config(), storage_dir=user_cache_dir())
        playlists = Path(args.playlists) if args.playlists else SAMPLE_PLAYLISTS
    display = config.display
    if args.size:
        display = dataclasses.replace(display, size=parse_size(args.size))
    if args.rotation is not None:
        if args.rotation not in (0, 90, 180, 270):
            raise UsageError(f"--rotation must be 0, 90, 180 or 270, got {args.rotation}")
        display = dataclasses.replace(display, rotation=args.rotation)
    if playlists is not None and not playlists.is_dir():
        raise UsageError(f"--playlists: {playlists} is not a folder")
    return dataclasses.replace(config, display=display), playlists


def run_command(args: argparse.Namespace) -> int:
    config, playlists = _config(args)
    if playlists is not None:
        content = load_local_content(playlists, config.source.channels)
        log.info("playing local playlists from %s", playlists)
    else:
        content = Content((), FileAssets())
        log.warning(
            "no content yet: this version plays local playlists only (kiosk run --playlists "
            "DIR); the idle slide shows until then"
        )
    box = ContentBox(content)

    display = PygameDisplay(config.display.size, args.headless)
    snapshot = Path(args.snapshot) if args.snapshot else None
    if display.mode == "headless" and snapshot is None and not args.config:
        config.storage_dir.mkdir(parents=True, exist_ok=True)
        snapshot = config.storage_dir / "screen.png"
    if display.mode == "headless":
        how = (
            f"the picture is saved to {snapshot} at every slide change"
            if snapshot
            else ("pass --snapshot FILE.png to see the picture")
        )
        print(f"No screen: running headless; {how}. Stop with Ctrl+C.", flush=True)

    orientation = Orientation(display.surface.get_size(), config.display.rotation)
    player = Player(
        box,
        display,
        orientation,
        config.device.tz,
        config.device.unit_name,
        clock=lambda: datetime.now(UTC),
        on_slide=(lambda frame: save_snapshot(snapshot, frame)) if snapshot else None,
    )
    stop = threading.Event()

    def request_stop(signum: int, _frame: object) -> None:
        log.info("signal %d: stopping", signum)
        stop.set()
        box.publish(box.current()[0])  # wake the player at once

    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGINT, request_stop)
    try:
        player.run(stop.is_set)
    finally:
        display.close()
    return 0
