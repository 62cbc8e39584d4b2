"""`kiosk run --playlists DIR`: authoring playlists (SPEC 5) from a folder shown as content,
for authors and developers; no signature, no source, nothing synced."""

from __future__ import annotations

import logging
from pathlib import Path

from kiosk.board.content import Content
from kiosk.core.authoring import FileAssets, PlaylistError, load_playlist
from kiosk.core.schedule import ChannelContent

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
