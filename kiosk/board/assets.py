"""A manifest's images, verified, stored and pre-scaled for this screen (SPEC 1.5): what the
sync needs of each image item before it commits the manifest, and where the player finds
the copy to show. The bytes are checked against the manifest's size and SHA-256 before
anything decodes them; a download resumes from its partial file."""

from __future__ import annotations

import errno
from pathlib import Path
from typing import Protocol

from kiosk.board.clock import SourceClock
from kiosk.board.source import AssetRejected, Source, SourceError
from kiosk.board.store import Store
from kiosk.core.fsutil import atomic_write, sha256_file
from kiosk.core.model import AssetRef, ImageItem, Manifest
from kiosk.render.images import ImageError, prescale


class Reported(Protocol):
    def add(self, code: str, message: str) -> None: ...


class DiskLow(Exception):
    code = "disk_low"


def _asset_ext(media_type: str) -> str:
    return "jpg" if media_type == "image/jpeg" else "png"


class AssetFetcher:
    def __init__(
        self, source: Source, store: Store, screen: tuple[int, int], clock: SourceClock
    ) -> None:
        self.source, self.store, self.screen, self.clock = source, store, screen, clock

    def image_path(self, item: ImageItem) -> Path | None:
        """The pre-scaled copy to show for an image item: the one for this screen, else one
        made for another screen (until the sync thread has made this screen's), so the
        player never decodes an original photo."""
        ref = item.asset
        derived = self.derived(ref)
        if derived.exists():
            return derived
        return next(iter(sorted(self.store.derived.glob(f"{ref.sha256}-*"))), None)

    def fetch_all(self, name: str, manifest: Manifest, report: Reported) -> None:
        """Make every image of the manifest verified, stored and pre-scaled. A bad or
        unreachable asset keeps only its own item off the screen; after the first that the
        source fails to give (an error status, a timeout), the channel's other missing images
        wait for the next sync, so a failing source costs one timeout, not one per image."""
        waiting: list[str] = []
        for item in manifest.items:
            if not isinstance(item, ImageItem):
                continue
            if waiting:
                if not self.ready(item):
                    waiting.append(item.id)
                continue
            try:
                self.ensure(item)
            except (AssetRejected, ImageError) as exc:
                report.add("asset_invalid", f"{name}: item {item.id}: {exc}")
            except DiskLow as exc:
                report.add("disk_low", f"{name}: item {item.id}: {exc}")
            except SourceError as exc:
                report.add("asset_invalid", f"{name}: item {item.id}: {exc}")
                waiting.append(item.id)
        if len(waiting) > 1:
            report.add(
                "asset_invalid",
                f"{name}: {len(waiting) - 1} more image(s) wait for the next sync "
                f"(the source did not give item {waiting[0]})",
            )

    def derived(self, ref: AssetRef) -> Path:
        """The copy of an image pre-scaled for this screen."""
        return self.store.derived_path(ref.sha256, self.screen, _asset_ext(ref.media_type))

    def ready(self, item: ImageItem) -> bool:
        return self.derived(item.asset).exists()

    def ensure(self, item: ImageItem) -> None:
        ref = item.asset
        derived = self.derived(ref)
        if derived.exists():
            return
        try:
            if self.store.has_asset(ref.sha256, ref.size):
                self._derive(self.store.asset_path(ref.sha256), ref.media_type, derived)
                return
            self._download(item, derived)
        except OSError as exc:
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                self.store.partial_path(ref.sha256).unlink(missing_ok=True)
                raise DiskLow(f"the disk is full ({exc.strerror})") from None
            raise

    def _download(self, item: ImageItem, derived: Path) -> None:
        ref = item.asset
        partial = self.store.partial_path(ref.sha256)
        have = partial.stat().st_size if partial.exists() else 0
        if not self.store.room_for(ref.size - have):
            raise DiskLow(
                f"{ref.size - have} more bytes would leave less than "
                f"{self.store.min_free // (1024 * 1024)} MiB free; download refused"
            )
        try:
            server_time = self.source.fetch_asset(ref.sha256, ref.size, partial)
        except AssetRejected:
            partial.unlink(missing_ok=True)  # these bytes are no start for the right file
            raise
        if server_time is not None:
            self.clock.observe(server_time)
        got = partial.stat().st_size
        if got != ref.size:
            partial.unlink()
            raise AssetRejected(f"got {got} bytes, the manifest says {ref.size}")
        if sha256_file(partial) != ref.sha256:
            partial.unlink()
            raise AssetRejected("the bytes do not match the manifest's SHA-256")
        try:
            self._derive(partial, ref.media_type, derived)
        except ImageError:
            partial.unlink()  # verified bytes, but not a usable image: never stored as usable
            raise
        self.store.promote(ref.sha256)

    def _derive(self, source: Path, media_type: str, derived: Path) -> None:
        data, _ = prescale(source, self.screen, media_type)
        atomic_write(derived, data)
