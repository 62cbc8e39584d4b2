"""A boot partition as a mounted folder: the board's own /boot/firmware, where
kiosk-firstboot reads what the installer left, and an installer's mounted card, where
`kiosk provision` writes it. (A disk image file is reached with mtools:
kiosk.installer.bootpart.)
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Protocol

from kiosk.core.fsutil import atomic_write, fsync_dir


class BootError(Exception):
    """The target cannot be used (not a boot partition, no mtools...): exit 2."""


class BootPartition(Protocol):
    where: str  # for messages

    def read(self, name: str) -> bytes | None:
        """A file at the partition's root, or None when it is not there."""

    def write(self, name: str, data: bytes) -> None: ...

    def remove(self, name: str) -> None:
        """Remove the file if it is there."""


class NotARegularFile(BootError):
    """Whoever had the card left a folder, a link or a device where a file belongs."""


MAX_BOOT_FILE = 1024 * 1024  # kiosk.toml, a token, a Wi-Fi file: a few hundred bytes each


class FolderBoot:
    """A mounted boot partition (or any folder, for a board's own /boot/firmware). Only
    regular files are read, and a link is never followed: the card is anyone's who holds
    it, and a kiosk.toml linked to /etc/shadow must not be copied anywhere."""

    def __init__(self, folder: Path) -> None:
        self.folder, self.where = folder, str(folder)

    def irregular(self, name: str) -> str | None:
        """Why the entry `name` is not a file this can read, or None (a regular file, or
        nothing there)."""
        try:
            mode = (self.folder / name).lstat().st_mode
        except FileNotFoundError:
            return None
        if stat.S_ISREG(mode):
            return None
        kind = "a symbolic link" if stat.S_ISLNK(mode) else (
            "a folder" if stat.S_ISDIR(mode) else "not a regular file")  # fmt: skip
        return f"{self.folder / name}: is {kind}; put the file itself there"

    def read(self, name: str) -> bytes | None:
        path = self.folder / name
        try:
            fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
        except FileNotFoundError:
            return None
        except OSError as exc:  # ELOOP: a link; EISDIR and others alike
            raise NotARegularFile(self.irregular(name) or f"{path}: {exc.strerror}") from None
        with os.fdopen(fd, "rb") as f:
            if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
                raise NotARegularFile(f"{path}: is not a regular file; put the file itself there")
            data = f.read(MAX_BOOT_FILE + 1)
        if len(data) > MAX_BOOT_FILE:
            raise NotARegularFile(f"{path}: is over {MAX_BOOT_FILE} bytes; not a board's file")
        return data

    def write(self, name: str, data: bytes) -> None:
        atomic_write(self.folder / name, data)

    def remove(self, name: str) -> None:
        try:
            (self.folder / name).unlink()
        except FileNotFoundError:
            return
        fsync_dir(self.folder)
