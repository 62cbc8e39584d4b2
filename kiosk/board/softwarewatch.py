"""The updater's state as the kiosk reads it for /health (`software`, update_failed): the
kiosk never writes it (the updater is another user). Re-read only when the file changes,
so a flood of /health requests costs one stat each."""

from __future__ import annotations

import threading
from pathlib import Path

from kiosk.core.updatestate import MAX_STATE_BYTES, SoftwareState, parse_state

REBOOT_FLAG = Path("/run/reboot-required")  # Debian's packages leave it when they need one


class SoftwareWatch:
    def __init__(self, state_file: Path, reboot_flag: Path = REBOOT_FLAG) -> None:
        self.state_file, self.reboot_flag = state_file, reboot_flag
        self._lock = threading.Lock()  # the health server's threads share it
        self._seen: tuple[int, int] | None = None
        self._state = SoftwareState()

    def state(self) -> SoftwareState:
        with self._lock:
            try:
                st = self.state_file.stat()
            except OSError:
                self._seen, self._state = None, SoftwareState()
                return self._state
            mark = (st.st_mtime_ns, st.st_size)
            if mark != self._seen:
                try:
                    with self.state_file.open("rb") as f:
                        self._state = parse_state(f.read(MAX_STATE_BYTES + 1))
                    self._seen = mark
                except OSError:
                    self._state = SoftwareState()
            return self._state

    def reboot_required(self) -> bool:
        return self.reboot_flag.exists()
