"""Writing files so that power loss at any moment leaves the old file or the new, never half.

Every write of the kiosk goes through here: temp file in the same folder, fsync, rename,
fsync of the folder. Writes are also rare: callers write only what changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
from pathlib import Path


def fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def stage_write(path: Path, data: bytes, mode: int = 0o644) -> Path:
    """Write data, fsynced, to a temp file beside path and return it: atomic_promote puts it
    in place. Lets a caller write several files first and make them visible last."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return Path(tmp)


def atomic_write(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Replace path with data; a reader sees the old bytes or the new ones, never a mix."""
    tmp = stage_write(path, data, mode)
    try:
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    fsync_dir(path.parent)


def atomic_promote(src: Path, dest: Path) -> None:
    """Move a complete, fsynced file into place (same file system) and make it durable."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    os.replace(src, dest)
    fsync_dir(dest.parent)


def sha256_file(path: Path) -> str:
    """The lowercase hex SHA-256 of a file, read a MiB at a time (a wheel is up to 100 MiB)."""
    digest = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def free_bytes(folder: Path) -> int:
    return shutil.disk_usage(folder).free
