"""The updaters' files as the kiosk reads them for /health (`software`, update_failed): the
software updater's state.json and the OS update job's os-updates.json. The kiosk never
writes them (the updaters run as root). Each is re-read only when it changes, so a flood of
/health requests costs a stat each."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from kiosk.core.osupdates import MAX_STATE_BYTES as MAX_OS_STATE_BYTES
from kiosk.core.osupdates import OsUpdateState, parse_os_state
from kiosk.core.updatestate import MAX_STATE_BYTES, SoftwareState, parse_state

REBOOT_FLAG = Path("/run/reboot-required")  # Debian's packages leave it when they need one
T = TypeVar("T")


class WatchedFile(Generic[T]):
    """A small file parsed again only when its mtime or size changes; missing or unreadable
    reads as `empty`."""

    def __init__(self, path: Path, parse: Callable[[bytes], T], empty: T, most: int) -> None:
        self.path, self.parse, self.empty, self.most = path, parse, empty, most
        self._lock = threading.Lock()  # the health server's threads share it
        self._seen: tuple[int, int] | None = None
        self._value = empty

    def read(self) -> T:
        with self._lock:
            try:
                st = self.path.stat()
            except OSError:
                self._seen, self._value = None, self.empty
                return self._value
            mark = (st.st_mtime_ns, st.st_size)
            if mark != self._seen:
                try:
                    with self.path.open("rb") as f:
                        self._value = self.parse(f.read(self.most + 1))
                    self._seen = mark
                except OSError:
                    self._value = self.empty
            return self._value


class SoftwareWatch:
    def __init__(self, update_dir: Path, reboot_flag: Path = REBOOT_FLAG) -> None:
        self.reboot_flag = reboot_flag
        self._state = WatchedFile(update_dir / "state.json", parse_state, SoftwareState(),
                                  MAX_STATE_BYTES)  # fmt: skip
        self._os = WatchedFile(update_dir / "os-updates.json", parse_os_state, OsUpdateState(),
                               MAX_OS_STATE_BYTES)  # fmt: skip

    def state(self) -> SoftwareState:
        return self._state.read()

    def os_pending(self) -> int | None:
        return self._os.read().pending

    def reboot_required(self) -> bool:
        return self.reboot_flag.exists()

    def health(self, running_version: str) -> dict[str, object]:
        return self.state().health(running_version, self.reboot_required(), self.os_pending())
