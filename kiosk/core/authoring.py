"""Playlists as authors write them (SPEC 5): TOML files whose image items name a `file`.

Reading the files is the only I/O here: each image is hashed into the `asset` reference of
SPEC 1.4, so an authored item becomes exactly the item a manifest would carry.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kiosk.core import tomlsafe
from kiosk.core.model import CHANNEL_NAME, Item, ItemError, item_ref, parse_item
from kiosk.core.textrules import clean_text

_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
)


class PlaylistError(ValueError):
    """A playlist file that cannot be used at all (unreadable, bad TOML, bad channel)."""


def sniff_media_type(head: bytes) -> str | None:
    for magic, media in _MAGIC:
        if head.startswith(magic):
            return media
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None


@dataclass
class FileAssets:
    """Assets by SHA-256, as files on disk (an authoring folder, or later the sync cache)."""

    files: dict[str, Path] = field(default_factory=dict)

    def path(self, sha256: str) -> Path | None:
        return self.files.get(sha256)


@dataclass
class Playlist:
    channel: str
    items: tuple[Item, ...]
    errors: list[str]  # items skipped, each message naming file, item and field
    assets: FileAssets
    wire: tuple[Mapping[str, Any], ...] = ()  # the good items as a manifest carries them


TEXT_FIELDS = ("title", "body", "caption", "text")


def wire_item(raw: object, index: int, base: Path, assets: FileAssets) -> object:
    """An authored item as a manifest carries it: its text as the board will show it
    (textrules.clean_text: the same signed bytes whether typed, pasted or decomposed), and
    an image's `file` (relative to base) hashed into its `asset`, the file noted in
    assets."""
    if isinstance(raw, Mapping):
        raw = {k: clean_text(v).strip() if k in TEXT_FIELDS and isinstance(v, str) else v
               for k, v in raw.items()}  # fmt: skip
    if isinstance(raw, Mapping) and raw.get("type") == "image" and "asset" not in raw:
        ref = item_ref(raw, index)
        name = raw.get("file")
        if not isinstance(name, str) or not name:
            raise ItemError(ref, "file", "an image item needs the path of its image file")
        path = base / name
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ItemError(ref, "file", f"{name}: cannot be read ({exc.strerror})") from None
        media = sniff_media_type(data[:16])
        if media is None:
            raise ItemError(ref, "file", f"{name}: is not a JPEG, PNG or WebP image")
        sha = hashlib.sha256(data).hexdigest()
        assets.files[sha] = path
        raw = {k: v for k, v in raw.items() if k != "file"}
        raw["asset"] = {"sha256": sha, "size": len(data), "media_type": media}
    return raw


def authored_item(raw: object, index: int, base: Path, assets: FileAssets) -> Item:
    return parse_item(wire_item(raw, index, base, assets), index)


def parse_playlist(doc: Mapping[str, Any], path: Path) -> Playlist:
    channel = doc.get("channel")
    if not isinstance(channel, str) or not CHANNEL_NAME.match(channel):
        raise PlaylistError(f"{path}: channel: must match {CHANNEL_NAME.pattern}, got {channel!r}")
    raws = doc.get("items", [])
    if not isinstance(raws, list):
        raise PlaylistError(f"{path}: items: must be an array of tables ([[items]])")
    assets = FileAssets()
    items: list[Item] = []
    wire: list[Mapping[str, Any]] = []
    errors: list[str] = []
    seen: set[str] = set()
    for index, raw in enumerate(raws):
        try:
            resolved = wire_item(raw, index, path.parent, assets)
            item = parse_item(resolved, index)
            if item.id in seen:
                raise ItemError(item_ref(raw, index), "id", "repeats an earlier item's id")
        except ItemError as exc:
            errors.append(f"{path}: {exc}")
            continue
        seen.add(item.id)
        items.append(item)
        wire.append(resolved)  # type: ignore[arg-type]  # parse_item checked it is a mapping
    return Playlist(channel, tuple(items), errors, assets, tuple(wire))


def load_playlist(path: Path) -> Playlist:
    try:
        doc = tomlsafe.loads(path.read_text("utf-8"))
    except OSError as exc:
        raise PlaylistError(f"{path}: cannot be read ({exc.strerror})") from None
    except UnicodeDecodeError:
        raise PlaylistError(f"{path}: is not UTF-8 text") from None
    except tomllib.TOMLDecodeError as exc:
        raise PlaylistError(f"{path}: invalid TOML: {exc}") from None
    return parse_playlist(doc, path)
