"""The board's releases on disk, under `[update] dir` (SPEC 8.3):

    releases/<version>/       a release: a venv, whole once .kiosk-release.json is in it
                              (written last); one without it is removed and redone
    current -> releases/<version>   the release the kiosk runs (kiosk.service starts it)
    committed -> releases/<version> the newest committed release: the updater runs from it,
                              never from a release on trial, which may be broken
    wheels/<sha256>           verified wheels, shared by releases: a new one fetches only
                              what it lacks; wheels/<sha256>.part is a download to resume
    rollout.json              the last rollout accepted (to read again after a 304)
    state.json                SoftwareState (kiosk/core/updatestate.py)

A release is installed where it stays (a venv's scripts name their folder), and counts only
once its marker is there. The switch is one rename of a symlink: a power cut leaves the
old link or the new one.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from pathlib import Path

from kiosk.core.fsutil import atomic_write, fsync_dir
from kiosk.core.updatestate import SoftwareState, parse_state

MARKER = ".kiosk-release.json"


class ReleaseDir:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.releases = root / "releases"
        self.wheels = root / "wheels"
        self.current_link = root / "current"
        self.committed_link = root / "committed"
        self.state_file = root / "state.json"
        self.rollout_file = root / "rollout.json"

    def prepare(self) -> None:
        for folder in (self.root, self.releases, self.wheels):
            folder.mkdir(mode=0o755, parents=True, exist_ok=True)

    # --- state ---------------------------------------------------------------
    def read_state(self) -> SoftwareState:
        try:
            data = self.state_file.read_bytes()
        except FileNotFoundError:
            return SoftwareState()
        return parse_state(data)

    def write_state(self, state: SoftwareState) -> None:
        atomic_write(self.state_file, state.to_json(), 0o644)

    # --- releases ------------------------------------------------------------
    def release_path(self, version: str) -> Path:
        return self.releases / version

    def is_installed(self, version: str) -> bool:
        return (self.release_path(version) / MARKER).is_file()

    def installed(self) -> list[str]:
        if not self.releases.is_dir():
            return []
        return sorted(p.name for p in self.releases.iterdir() if (p / MARKER).is_file())

    def mark_installed(self, version: str, wheels: list[str]) -> Path:
        """Everything written so far reaches the disk first, then the marker: a release
        folder without its marker is never run."""
        os.sync()  # pip does not fsync what it writes; a power cut must not leave empty files
        folder = self.release_path(version)
        atomic_write(folder / MARKER, json.dumps({"version": version, "wheels": wheels}).encode())
        return folder

    def wheels_of(self, version: str) -> set[str]:
        """The SHA-256 of each wheel a release was installed from."""
        try:
            doc = json.loads((self.release_path(version) / MARKER).read_bytes())
            return {w for w in doc.get("wheels", []) if isinstance(w, str)}
        except (OSError, ValueError, AttributeError):
            return set()

    def current(self) -> str | None:
        return self._linked(self.current_link)

    def committed(self) -> str | None:
        return self._linked(self.committed_link)

    def _linked(self, link: Path) -> str | None:
        try:
            target = os.readlink(link)
        except OSError:
            return None
        name = Path(target).name
        return name if self.is_installed(name) else None

    def switch(self, version: str, link: str = "current") -> None:
        """The link names the version, atomically (a new link renamed over the old)."""
        temp = self.root / f".{link}.new"
        with contextlib.suppress(FileNotFoundError):
            temp.unlink()
        os.symlink(f"releases/{version}", temp)
        os.replace(temp, self.root / link)
        fsync_dir(self.root)

    def remove_partials(self, keep: str | None = None) -> None:
        """Release folders without their marker: an install a power cut or a failure
        interrupted (`keep`: the one being installed now)."""
        if self.releases.is_dir():
            for path in self.releases.iterdir():
                if path.name != keep and not (path / MARKER).is_file():
                    shutil.rmtree(path, ignore_errors=True)

    def remove_release(self, version: str) -> None:
        """A release goes: its marker first, so a cut removal leaves no half release that
        counts as installed."""
        path = self.release_path(version)
        with contextlib.suppress(FileNotFoundError):
            (path / MARKER).unlink()
        shutil.rmtree(path, ignore_errors=True)

    # --- wheels ----------------------------------------------------------------
    def wheel_path(self, sha256: str) -> Path:
        return self.wheels / sha256

    def wheel_partial(self, sha256: str) -> Path:
        return self.wheels / f"{sha256}.part"

    def has_wheel(self, sha256: str, size: int) -> bool:
        path = self.wheel_path(sha256)
        return path.is_file() and path.stat().st_size == size

    def prune_wheels(self, keep: set[str]) -> int:
        """Removes every held wheel (and download) no kept release needs; returns bytes freed."""
        freed = 0
        if not self.wheels.is_dir():
            return 0
        for path in self.wheels.iterdir():
            if path.name.removesuffix(".part") not in keep:
                freed += path.stat().st_size
                path.unlink()
        return freed
