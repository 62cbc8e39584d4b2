"""The verified cache under `storage.dir`: what the board plays when the network is gone.

    channels/<name>.json   the last accepted envelope of each channel, with its ETag
    assets/<sha256>        verified image bytes, named by their hash
    partial/<sha256>       a download in progress (resumed with Range)
    derived/<sha256>-<W>x<H>.<ext>   the image pre-scaled for the screen

Nothing lands under channels/, assets/ or derived/ until it is complete and verified, and
each lands by an atomic rename. One process at a time holds the lock (`kiosk run` and a
technician's `kiosk sync --once` take turns).
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import fcntl
import json
import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from kiosk.core.errors import UsageError
from kiosk.core.fsutil import atomic_promote, atomic_write, free_bytes

log = logging.getLogger(__name__)

GRACE_S = 24 * 3600  # an asset nothing references is kept this long (a rollback of a
# publication, or a manifest on its way, may want it back)
MIN_FREE_BYTES = 256 * 1024 * 1024  # downloads that would leave less are refused (disk_low)


class StoreBusy(Exception):
    """Another process holds the cache's lock."""


@dataclass(frozen=True)
class StoredChannel:
    envelope: bytes  # exactly as the source sent it, verified again on every load
    etag: str | None


class Store:
    def __init__(self, root: Path, min_free: int = MIN_FREE_BYTES) -> None:
        self.root = root
        self.min_free = min_free
        self.channels = root / "channels"
        self.assets = root / "assets"
        self.partial = root / "partial"
        self.derived = root / "derived"
        self._screen_file = root / "screen.json"
        self._unreferenced_since: dict[Path, float] = {}  # bounded by the files on disk

    def prepare(self) -> None:
        for folder in (self.channels, self.assets, self.partial, self.derived):
            folder.mkdir(parents=True, exist_ok=True)

    @contextlib.contextmanager
    def locked(self, wait_s: float) -> Iterator[None]:
        """Hold the cache's lock, waiting up to wait_s for another process to finish."""
        self.prepare()
        fd = os.open(self.root / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
        try:
            deadline = time.monotonic() + wait_s
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise StoreBusy(f"{self.root} is in use by another kiosk process") from None
                    time.sleep(0.2)
            yield
        finally:
            os.close(fd)  # closing releases the lock

    # -- channels ---------------------------------------------------------------------------

    def _channel_file(self, name: str) -> Path:
        return self.channels / f"{name}.json"

    def read_channel(self, name: str) -> StoredChannel | None:
        path = self._channel_file(name)
        try:
            doc = json.loads(path.read_bytes())
            envelope = base64.b64decode(doc["envelope"], validate=True)
            etag = doc.get("etag")
        except FileNotFoundError:
            return None
        except (OSError, ValueError, KeyError, TypeError, binascii.Error) as exc:
            log.error("%s: unreadable (%s); the channel waits for its next sync", path, exc)
            return None
        return StoredChannel(envelope, etag if isinstance(etag, str) else None)

    def write_channel(self, name: str, stored: StoredChannel) -> None:
        doc = {"etag": stored.etag, "envelope": base64.b64encode(stored.envelope).decode()}
        atomic_write(self._channel_file(name), json.dumps(doc).encode())

    # -- assets -----------------------------------------------------------------------------

    def asset_path(self, sha256: str) -> Path:
        return self.assets / sha256

    def has_asset(self, sha256: str, size: int) -> bool:
        try:
            return self.asset_path(sha256).stat().st_size == size
        except OSError:
            return False

    def partial_path(self, sha256: str) -> Path:
        return self.partial / sha256

    def promote(self, sha256: str) -> None:
        atomic_promote(self.partial_path(sha256), self.asset_path(sha256))

    def derived_path(self, sha256: str, screen: tuple[int, int], ext: str) -> Path:
        return self.derived / f"{sha256}-{screen[0]}x{screen[1]}.{ext}"

    def room_for(self, size: int) -> bool:
        """Whether size more bytes still leave the reserve free (SD cards must not fill)."""
        return free_bytes(self.root) - size >= self.min_free

    # -- the screen the pre-scaled copies are for ----------------------------------------------

    def remembered_screen(self) -> tuple[int, int] | None:
        try:
            w, h = json.loads(self._screen_file.read_bytes())["logical"]
            return int(w), int(h)
        except (OSError, ValueError, KeyError, TypeError):
            return None

    def remember_screen(self, logical: tuple[int, int]) -> None:
        """So that `kiosk sync --once` pre-scales for the screen `kiosk run` drives; written
        only when it changes."""
        if self.remembered_screen() != tuple(logical):
            atomic_write(self._screen_file, json.dumps({"logical": list(logical)}).encode())

    # -- garbage ----------------------------------------------------------------------------

    def remove_stale_temp(self) -> None:
        """Temp files of the cache's own writes cut short by a crash or power loss (we hold
        the lock, so nobody is writing them now). Only the cache's: the play journal beside
        it is written by the heartbeat thread, which cleans up after itself. Finding none
        costs a few directory reads, no writes."""
        own = [(self.root, f".{self._screen_file.name}.*.tmp")]  # atomic_write's temp
        own += [(folder, ".*.tmp") for folder in (self.channels, self.assets, self.derived)]
        for folder, pattern in own:
            for path in folder.glob(pattern) if folder.is_dir() else ():
                path.unlink(missing_ok=True)

    def collect_garbage(self, keep: set[Path], now: float, grace_s: float = GRACE_S) -> int:
        """Remove assets, derived images and partial downloads outside `keep` once they have
        been unreferenced for grace_s (as seen by this process). Returns how many went."""
        removed = 0
        seen: set[Path] = set()
        for folder in (self.assets, self.derived, self.partial):
            for path in folder.iterdir() if folder.is_dir() else ():
                if path in keep or path.name.endswith(".tmp"):
                    continue
                seen.add(path)
                since = self._unreferenced_since.setdefault(path, now)
                if now - since >= grace_s:
                    with contextlib.suppress(FileNotFoundError):
                        path.unlink()
                        removed += 1
                    seen.discard(path)
        self._unreferenced_since = {p: t for p, t in self._unreferenced_since.items() if p in seen}
        return removed


def become_cache_owner(folder: Path) -> None:
    """Files written by `kiosk sync --once` must belong to whoever owns the cache (the
    `kiosk` user on a board): a root-owned file there would fail every later sync of the
    service. So root becomes that user for this command; anyone else must be that user."""
    try:
        st = folder.stat()
    except OSError:
        return  # no cache yet: whoever makes it owns it
    if st.st_uid == os.geteuid():
        return
    if os.geteuid() != 0:
        raise UsageError(
            f"the cache {folder} belongs to user id {st.st_uid}, not to you; run this as "
            "its owner (on a board: sudo -u kiosk kiosk sync --once)"
        )
    os.setgroups([])
    os.setgid(st.st_gid)
    os.setuid(st.st_uid)
    log.info("running as the cache's owner (uid %d, gid %d)", st.st_uid, st.st_gid)
