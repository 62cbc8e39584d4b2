"""A boot partition to provision: a mounted folder, or the FAT partition inside a disk image
file, reached with mtools (no root, no mount, so an installer's laptop and CI can do it).
"""

from __future__ import annotations

import os
import shutil
import struct
import subprocess
import tempfile
from pathlib import Path

from kiosk.core.bootfolder import BootError, BootPartition, FolderBoot

SECTOR = 512
FAT_TYPES = {0x01, 0x04, 0x06, 0x0B, 0x0C, 0x0E}  # MBR partition types of FAT12/16/32
COMPRESSED = {b"\xfd7zXZ": "xz", b"\x1f\x8b": "gzip", b"PK\x03\x04": "zip", b"(\xb5/\xfd": "zstd"}


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
