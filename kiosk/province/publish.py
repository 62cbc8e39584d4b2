"""The province's side (SPEC 4 and 5): `kiosk keygen` and `kiosk publish`.

`publish` turns authoring playlists into the static site of SPEC 1.1: assets named by their
hash, and per channel a manifest signed in a DSSE envelope. Any static web server can host
the folder (docs/protocol.md has an nginx configuration).
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import dataclasses
import hashlib
import json
import stat
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.core.authoring import FileAssets, Playlist, PlaylistError, load_playlist
from kiosk.core.errors import UsageError
from kiosk.core.fsutil import atomic_promote, atomic_write, stage_write
from kiosk.core.model import MANIFEST_FORMAT
from kiosk.core.signing import (
    load_private_key,
    public_key_text,
    raw_public_key,
    sign_envelope,
    write_private_key,
)


@dataclass(frozen=True)
class Published:
    channel: str
    sequence: int
    items: int
    assets_new: int
    assets_total: int
    expires_at: datetime


def read_sequence(site: Path, channel: str) -> int:
    """The sequence the site holds for a channel (0 for none); ValueError when its manifest
    is there but cannot be read."""
    return envelope_sequence(site / "channels" / channel / "manifest.json")


def envelope_sequence(path: Path) -> int:
    """The `sequence` of the signed document at path (a channel's manifest, the rollout),
    read without its signature: the site is ours. 0 when there is none; ValueError when it
    is there but cannot be read."""
    if not path.exists():
        return 0
    try:
        env = json.loads(path.read_bytes())
        payload = json.loads(base64.b64decode(env["payload"], validate=True))
        sequence = payload["sequence"]
        if isinstance(sequence, bool) or not isinstance(sequence, int):
            raise ValueError("sequence is not a whole number")
        return sequence
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise ValueError(f"{path}: cannot read its sequence ({exc})") from None


def site_sequence(site: Path, channel: str) -> int:
    """The sequence the site already holds for a channel (0 for none)."""
    try:
        return read_sequence(site, channel)
    except ValueError as exc:
        raise UsageError(f"{exc}; give the next one with --sequence N") from None


def _json_value(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} cannot be written to JSON")


def sequence_to_publish(site: Path, channel: str, wanted: int | None) -> int:
    """One past what the site holds, or --sequence when boards would take it as new."""
    held = site_sequence(site, channel)
    if wanted is None:
        return held + 1
    if wanted < held:
        raise UsageError(
            f"--sequence {wanted} is below the {held} already published for "
            f"{channel}; boards would reject it as a rollback"
        )
    if wanted == held:
        raise UsageError(
            f"--sequence {wanted} is already published for {channel}; boards take an "
            "equal sequence for the same content and would keep what they have. "
            f"Give {held + 1}, or leave --sequence out"
        )
    return wanted


def publish_playlist(
    playlist: Playlist,
    key: Ed25519PrivateKey,
    site: Path,
    now: datetime,
    expires_days: float,
    sequence: int | None = None,
) -> Published:
    """Write one channel, numbered one past the site's unless `sequence` is given, and make
    it visible."""
    number = sequence_to_publish(site, playlist.channel, sequence)
    staged = stage_channel(playlist, key, site, now, expires_days, number)
    try:
        staged.promote()
    except BaseException:
        staged.discard()
        raise
    return staged.published


@dataclass(frozen=True)
class StagedChannel:
    """A channel written but not yet visible: its assets are in place (content-addressed, so
    harmless until a manifest names them) and its signed manifest waits in a temp file beside
    its final place. promote() makes it visible; discard() forgets it."""

    published: Published
    manifest: Path
    temp: Path

    def promote(self) -> None:
        atomic_promote(self.temp, self.manifest)

    def discard(self) -> None:
        with contextlib.suppress(OSError):
            self.temp.unlink()


def stage_channel(
    playlist: Playlist,
    key: Ed25519PrivateKey,
    site: Path,
    now: datetime,
    expires_days: float,
    sequence: int,
) -> StagedChannel:
    """Everything of one channel that can fail, done before anything is visible: its assets
    written (so a device never finds a manifest naming an asset that is not there yet), its
    manifest signed and written, fsynced, beside its place."""
    new = 0
    for sha, path in sorted(playlist.assets.files.items()):
        dest = site / "assets" / sha
        if not dest.exists():
            atomic_write(dest, path.read_bytes())
            new += 1
    expires = now + timedelta(days=expires_days)
    payload = {
        "format": MANIFEST_FORMAT,
        "channel": playlist.channel,
        "sequence": sequence,
        "issued_at": now.isoformat(timespec="seconds"),
        "expires_at": expires.isoformat(timespec="seconds"),
        "items": list(playlist.wire),
    }
    data = json.dumps(payload, ensure_ascii=False, indent=1, default=_json_value).encode()
    manifest = site / "channels" / playlist.channel / "manifest.json"
    temp = stage_write(manifest, sign_envelope(data, key))
    done = Published(
        playlist.channel, sequence, len(playlist.items), new, len(playlist.assets.files), expires
    )
    return StagedChannel(done, manifest, temp)


def undecodable(playlist: Playlist) -> list[str]:
    """The playlist's images that boards would refuse although their first bytes say JPEG,
    PNG or WebP (a photo cut off in the copy, a file that only looks like an image): each
    is decoded as a board decodes it, before anything is signed."""
    from kiosk.render.images import ImageError, decode

    problems = []
    for path in sorted(set(playlist.assets.files.values())):
        try:
            decode(path, (64, 64), "contain")
        except ImageError as exc:
            problems.append(f"{path}: {exc}; boards would refuse it")
    return problems


def without_metadata(playlist: Playlist, work: Path) -> Playlist:
    """The playlist with its photos' EXIF and XMP left out of what is signed and served (a
    phone's GPS position has no place in the site): each image that carries any is turned
    upright and written again into `work`, under its new hash, and the items name that."""
    from kiosk.render.images import ImageError
    from kiosk.render.images import without_metadata as clean

    files: dict[str, Path] = {}
    renamed: dict[str, dict[str, Any]] = {}
    for sha, path in playlist.assets.files.items():
        data = path.read_bytes()
        try:
            cleaned = clean(data)
        except ImageError as exc:
            raise UsageError(f"nothing was published: {path}: {exc}") from None
        if cleaned is data:
            files[sha] = path
            continue
        new = hashlib.sha256(cleaned).hexdigest()
        atomic_write(work / new, cleaned)
        files[new] = work / new
        renamed[sha] = {"sha256": new, "size": len(cleaned)}

    def renamed_item(item: Mapping[str, Any]) -> Mapping[str, Any]:
        asset = item.get("asset")
        if isinstance(asset, Mapping) and asset.get("sha256") in renamed:
            return {**item, "asset": {**asset, **renamed[asset["sha256"]]}}
        return item

    if not renamed:
        return playlist
    wire = tuple(renamed_item(item) for item in playlist.wire)
    return dataclasses.replace(playlist, assets=FileAssets(files), wire=wire)


def load_playlists(paths: list[Path]) -> list[Playlist]:
    """Every playlist, or UsageError listing every problem: nothing is published from a
    folder with a mistake in it."""
    problems: list[str] = []
    playlists: list[Playlist] = []
    seen: dict[str, Path] = {}
    for path in paths:
        try:
            playlist = load_playlist(path)
        except PlaylistError as exc:
            problems.append(str(exc))
            continue
        problems.extend(playlist.errors)
        problems.extend(undecodable(playlist))
        if playlist.channel in seen:
            problems.append(
                f"{path}: channel {playlist.channel} is also in {seen[playlist.channel]}"
            )
        seen[playlist.channel] = path
        playlists.append(playlist)
    if problems:
        raise UsageError("nothing was published:\n" + "\n".join(problems))
    return playlists


def publish_command(args: argparse.Namespace) -> int:
    if args.sequence is not None and args.sequence < 1:
        raise UsageError(f"--sequence must be 1 or more, got {args.sequence}")
    if not 0 < args.expires_days <= 3650:
        raise UsageError(f"--expires-days must be from 1 to 3650, got {args.expires_days:g}")
    key_path = Path(args.key)
    try:
        key = load_private_key(key_path)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    if key_path.stat().st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        print(f"warning: {key_path} can be read by other users; chmod 600 it", file=sys.stderr)
    site = Path(args.out)
    now = datetime.now(UTC).replace(microsecond=0)
    loaded = load_playlists([Path(p) for p in args.playlists])
    # every channel staged (signed, written beside its place) before any becomes visible;
    # photos without their metadata come from a folder that lives until then
    staged: list[StagedChannel] = []
    with tempfile.TemporaryDirectory(prefix="kiosk-publish-") as work:
        playlists = [without_metadata(p, Path(work)) for p in loaded]
        # every channel's number checked before anything is written
        numbers = [sequence_to_publish(site, p.channel, args.sequence) for p in playlists]
        try:
            for playlist, number in zip(playlists, numbers, strict=True):
                staged.append(stage_channel(playlist, key, site, now, args.expires_days, number))
        except BaseException:
            for s in staged:
                s.discard()
            raise
    written: dict[str, int] = {}
    for s in staged:
        s.promote()
        done = s.published
        written[done.channel] = done.sequence
        print(
            f"{done.channel}: sequence {done.sequence}, {done.items} items, "
            f"{done.assets_total} assets ({done.assets_new} new), "
            f"expires {done.expires_at.isoformat()}"
        )
    print(f"signed by {public_key_text(raw_public_key(key))}; the site is in {site}")
    if args.notify:
        from kiosk.province.notify import NotifyError, announce

        try:
            announce(args.notify, written)
        except NotifyError as exc:
            print(
                f"error: {exc}; the boards will find the new content at their next poll",
                file=sys.stderr,
            )
            return 1
        print(f"announced on {args.notify}: " + ", ".join(f"{c} {n}" for c, n in written.items()))
    return 0


def keygen_command(args: argparse.Namespace) -> int:
    if args.public_of:
        try:
            key = load_private_key(Path(args.public_of))
        except ValueError as exc:
            raise UsageError(str(exc)) from None
        print(public_key_text(raw_public_key(key)))
        return 0
    path = Path(args.out)
    key = Ed25519PrivateKey.generate()
    try:
        write_private_key(path, key)
    except FileExistsError:
        raise UsageError(f"{path} exists; a signing key is never overwritten") from None
    except OSError as exc:
        raise UsageError(f"{path}: cannot be written ({exc.strerror})") from None
    print(public_key_text(raw_public_key(key)))
    print(
        f"The private key is in {path} (mode 0600): keep it off the web server and back it up. "
        "Put the line above in public_keys of each board's kiosk.toml.",
        file=sys.stderr,
    )
    return 0
