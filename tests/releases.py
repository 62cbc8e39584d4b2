"""Releases for tests: this checkout built as versions A+1, A+2 by `kiosk release build`'s own
code, offline from build/wheelhouse (scripts/wheelhouse.sh), into a site a FaultyServer
serves on 127.0.0.1; and rollouts signed with the province's content key."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from unittest import mock

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from packaging.tags import sys_tags
from packaging.version import Version

from kiosk import __version__
from kiosk.builder.releasebuild import build_release, copy_tree
from kiosk.core.fsutil import atomic_write
from kiosk.core.signing import (
    ROLLOUT_TYPE,
    public_key_text,
    raw_public_key,
    sign_envelope,
    write_private_key,
)
from tests.conftest import missing
from tests.countingsource import free_port

REPO = Path(__file__).resolve().parents[1]
WHEELHOUSE = REPO / "build" / "wheelhouse"
PYTHON = f"{sys.version_info.major}.{sys.version_info.minor}"
DEVICE = "08-02263-01"


def later_version(n: int) -> str:
    """The n-th release after the one this checkout is (A): A+1, A+2, ..."""
    major, minor, micro = (*Version(__version__).release, 0, 0)[:3]
    return f"{major}.{minor}.{micro + n}"


A1, A2 = later_version(1), later_version(2)


def host_platforms() -> list[str]:
    """This machine's manylinux tags, best first: a release for the test's own Python."""
    seen: list[str] = []
    for tag in sys_tags():
        if "manylinux" in tag.platform and tag.platform not in seen:
            seen.append(tag.platform)
    return seen


@contextmanager
def offline_pip() -> Iterator[None]:
    if not (WHEELHOUSE / ".made").exists():
        missing("build/wheelhouse is missing: run scripts/wheelhouse.sh (scripts/test does)")
    with mock.patch.dict(
        os.environ, {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(WHEELHOUSE)}, clear=False
    ):
        yield


class Builder:
    """The software's builder: a release key, and a copy of this checkout to make versions of."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.key = Ed25519PrivateKey.generate()
        self.key_path = root / "release.key"
        write_private_key(self.key_path, self.key)
        self.public_key = public_key_text(raw_public_key(self.key))

    def build(
        self,
        version: str,
        site: Path,
        change: Callable[[Path], None] | None = None,
        offline: bool = True,
    ) -> dict:
        """A fresh copy of this checkout for each version: one release's change is not the
        next one's."""
        tree = self.root / f"tree-{version}"
        copy_tree(REPO, tree)
        init = tree / "kiosk" / "__init__.py"
        text = init.read_text()
        start = text.index('__version__ = "')
        end = text.index('"', start + 15)
        init.write_text(text[:start] + f'__version__ = "{version}' + text[end:])
        if change is not None:
            change(tree)
        with offline_pip() if offline else contextlib.nullcontext():
            return build_release(
                tree, site, self.key_path, host_platforms(), PYTHON,
                clock=lambda: datetime(2026, 12, 1, 8, tzinfo=UTC),
            )  # fmt: skip


class Rollouts:
    """The province's side of SPEC 8.2, by hand (the server's own is tested elsewhere)."""

    def __init__(self, site: Path, key: Ed25519PrivateKey | None = None) -> None:
        self.site = site
        self.key = key or Ed25519PrivateKey.generate()
        self.public_key = public_key_text(raw_public_key(self.key))
        self.sequence = 0

    def write(
        self,
        version: str | None,
        devices: list[str] | None = None,
        percent: int = 0,
        sequence: int | None = None,
        expires: datetime | None = None,
        key: Ed25519PrivateKey | None = None,
        issued: datetime = datetime(2026, 12, 5, 1, tzinfo=UTC),
    ) -> None:
        self.sequence = sequence if sequence is not None else self.sequence + 1
        doc = {
            "format": 1,
            "sequence": self.sequence,
            "issued_at": issued.isoformat(),
            "expires_at": (expires or issued + timedelta(days=30)).isoformat(),
            "version": version,
            "devices": [DEVICE] if devices is None else devices,
            "percent": percent,
        }
        envelope = sign_envelope(json.dumps(doc).encode(), key or self.key, ROLLOUT_TYPE)
        atomic_write(self.site / "releases" / "rollout.json", envelope)


def copy_site(site: Path, dest: Path) -> Path:
    """A site of one's own to spoil: assets are hard links (replace a file, never write
    through it)."""
    shutil.copytree(site, dest, copy_function=os.link)
    return dest


def board_toml(
    path: Path, url: str, content_key: str, release_keys: list[str], listen: str = ""
) -> Path:
    keys = ", ".join(f'"{k}"' for k in release_keys)
    path.write_text(
        f"""[device]
id = "{DEVICE}"
unit_name = "UBND xã Tân Trào"
unit_kind = "xa"
province_code = "08"
commune_code = "02263"

[source]
url = "{url}"
channels = ["xa-02263"]
public_keys = ["{content_key}"]

[display]
size = "640x360"

[health]
listen = "{listen or f"127.0.0.1:{free_port()}"}"

[storage]
dir = "{path.parent / "cache"}"

[update]
release_keys = [{keys}]
dir = "{path.parent / "opt"}"
""",
        encoding="utf-8",
    )
    return path


def build_both(root: Path) -> SimpleNamespace:
    """A+1 (this checkout, another version), then A+2 (only the kiosk's code changed)."""
    builder = Builder(root)
    site = root / "site"
    builder.build(A1, site)

    def change(tree: Path) -> None:
        with (tree / "kiosk" / "board" / "selfcheck.py").open("a") as f:
            f.write("\n# A+2: a change to the kiosk's code only\n")

    builder.build(A2, site, change)
    return SimpleNamespace(builder=builder, site=site)
