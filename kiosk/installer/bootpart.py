"""A boot partition to provision: a mounted folder, or the FAT partition inside a disk image
file, reached with mtools (no root, no mount, so an installer's laptop and CI can do it).
"""

from __future__ import annotations

import os
import shutil
import stat
import struct
import subprocess
import tempfile
from pathlib import Path
from typing import Protocol

from kiosk.core.fsutil import atomic_write, fsync_dir

SECTOR = 512
FAT_TYPES = {0x01, 0x04, 0x06, 0x0B, 0x0C, 0x0E}  # MBR partition types of FAT12/16/32
COMPRESSED = {b"\xfd7zXZ": "xz", b"\x1f\x8b": "gzip", b"PK\x03\x04": "zip", b"(\xb5/\xfd": "zstd"}


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


def _is_fat(boot_sector: bytes) -> bool:
    return boot_sector[510:512] == b"\x55\xaa" and (
        boot_sector[54:59] == b"FAT12"
        or boot_sector[54:59] == b"FAT16"
        or boot_sector[82:87] == b"FAT32"
    )


def fat_offset(image: Path) -> int:
    """The byte offset of the first FAT partition: an MBR disk image (as Raspberry Pi OS
    ships) or a bare FAT file system."""
    with image.open("rb") as f:
        head = f.read(SECTOR)
        for magic, kind in COMPRESSED.items():
            if head.startswith(magic):
                raise BootError(f"{image}: is {kind}-compressed; decompress it first")
        if len(head) < SECTOR:
            raise BootError(f"{image}: too small to be a disk image")
        if _is_fat(head):
            return 0
        if head[510:512] != b"\x55\xaa":
            raise BootError(f"{image}: no partition table and no FAT file system")
        for n in range(4):
            entry = head[446 + 16 * n : 462 + 16 * n]
            kind, start = entry[4], struct.unpack_from("<I", entry, 8)[0]
            if kind == 0xEE:
                raise BootError(f"{image}: has a GPT partition table; expected an MBR image")
            if kind in FAT_TYPES and start:
                f.seek(start * SECTOR)
                if _is_fat(f.read(SECTOR)):
                    return start * SECTOR
    raise BootError(f"{image}: no FAT boot partition in its partition table")


class ImageBoot:
    """The FAT boot partition of an image file, through mtools."""

    def __init__(self, image: Path) -> None:
        if shutil.which("mcopy") is None:
            raise BootError("writing into a disk image needs mtools (apt install mtools)")
        self.image = image
        self.where = f"{image} (boot partition)"
        self._spec = f"{image}@@{fat_offset(image)}"
        self._env = {**os.environ, "MTOOLS_SKIP_CHECK": "1", "MTOOLS_NO_VFAT": "0"}

    def _mtools(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run(list(args), capture_output=True, env=self._env, timeout=60)

    def names(self) -> set[str]:
        done = self._mtools("mdir", "-i", self._spec, "-b", "::/")
        lines = done.stdout.decode("utf-8", "replace").splitlines()
        return {line.removeprefix("::/") for line in lines if line.startswith("::/")}

    def read(self, name: str) -> bytes | None:
        if name not in self.names():
            return None
        done = self._mtools("mcopy", "-n", "-i", self._spec, f"::/{name}", "-")
        if done.returncode != 0:
            raise BootError(f"{self.where}: cannot read {name}: {done.stderr.decode().strip()}")
        return done.stdout

    def write(self, name: str, data: bytes) -> None:
        with tempfile.TemporaryDirectory() as tmp:
            local = Path(tmp) / name
            local.write_bytes(data)
            done = self._mtools("mcopy", "-o", "-i", self._spec, str(local), f"::/{name}")
        if done.returncode != 0:
            raise BootError(f"{self.where}: cannot write {name}: {done.stderr.decode().strip()}")

    def remove(self, name: str) -> None:
        if name in self.names():
            done = self._mtools("mdel", "-i", self._spec, f"::/{name}")
            if done.returncode != 0:
                raise BootError(f"{self.where}: cannot remove {name}: {done.stderr.decode()}")


def open_boot(target: Path) -> BootPartition:
    """The boot partition at target: a folder, or an image file."""
    if target.is_dir():
        if not (target / "config.txt").is_file():
            raise BootError(
                f"{target}: no config.txt here; is it the boot partition (bootfs) of a "
                "Raspberry Pi OS card?"
            )
        return FolderBoot(target)
    if target.is_file():
        boot = ImageBoot(target)
        if boot.read("config.txt") is None:
            raise BootError(f"{boot.where}: no config.txt; is it a Raspberry Pi OS image?")
        return boot
    raise BootError(f"{target}: no such folder or image file")
