"""`kiosk province release add DIR`: a release that `kiosk release build` wrote, checked
against PROVINCE.toml's release keys and copied into the site (SPEC 8.1).

The folder comes from a builder's machine, perhaps on a USB stick: nothing in it is trusted
until the signature says so, and every wheel is checked for its size and SHA-256 before it
is copied. Wheels go in first, the release document last, so a board never sees a release
whose wheels the site does not hold.
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.conf import settings
from django.db import transaction

from kiosk.core.fsutil import atomic_promote, atomic_write, sha256_file
from kiosk.core.release import Release as ReleaseDoc
from kiosk.core.release import UpdateError, parse_release
from kiosk.core.signing import RELEASE_TYPE, EnvelopeError, verify_envelope
from kiosk.province.bulletins import audit
from kiosk.province.updates.models import Release

MAX_RELEASE_DOC = 1024 * 1024  # a release of 200 wheels is about 40 KB
MAX_RELEASES_IN_DIR = 100


class ReleaseRefused(ValueError):
    """A release not taken: the message names the file and the rule."""


@dataclass(frozen=True)
class Added:
    version: str
    wheels: int
    copied: int  # wheels the site did not hold yet
    size: int
    already: bool = False  # the same release was taken before: nothing done


def _documents(folder: Path) -> list[Path]:
    releases = folder / "releases"
    if not releases.is_dir():
        raise ReleaseRefused(f"{folder} holds no releases/ folder: is it `kiosk release build`'s?")
    docs = sorted(p for p in releases.glob("*.json") if p.name != "rollout.json")
    if not docs:
        raise ReleaseRefused(f"{releases} holds no release document")
    if len(docs) > MAX_RELEASES_IN_DIR:
        raise ReleaseRefused(f"{releases} holds {len(docs)} documents; at most 100")
    return docs


def checked_release(path: Path, release_keys: tuple[str, ...]) -> tuple[ReleaseDoc, bytes]:
    """The release a document holds, signed by a release key, named by its version."""
    if path.stat().st_size > MAX_RELEASE_DOC:
        raise ReleaseRefused(f"{path.name}: larger than 1 MiB")
    data = path.read_bytes()
    try:
        release = parse_release(json.loads(verify_envelope(data, release_keys, RELEASE_TYPE)))
    except EnvelopeError as exc:
        raise ReleaseRefused(
            f"{path.name}: {exc.code}: {exc} (is its key in [update] release_keys of "
            "PROVINCE.toml?)"
        ) from None
    except (UpdateError, ValueError, RecursionError) as exc:
        raise ReleaseRefused(f"{path.name}: {exc}") from None
    if path.name != f"{release.version}.json":
        raise ReleaseRefused(f"{path.name}: it holds version {release.version}")
    return release, data


def _copy_wheels(release: ReleaseDoc, source: Path, assets: Path) -> int:
    """Each wheel checked (size, then SHA-256) and copied in unless the site holds it."""
    copied = 0
    for wheel in release.wheels:
        dest = assets / wheel.sha256
        held = dest.is_file() and dest.stat().st_size == wheel.size
        if held and sha256_file(dest) == wheel.sha256:
            continue
        src = source / wheel.sha256
        if not src.is_file():
            raise ReleaseRefused(f"{wheel.filename}: assets/{wheel.sha256} is missing")
        if src.stat().st_size != wheel.size or sha256_file(src) != wheel.sha256:
            raise ReleaseRefused(f"{wheel.filename}: assets/{wheel.sha256} is not the file "
                                 "the release signed (size or SHA-256)")  # fmt: skip
        temp = assets / f".{wheel.sha256}.part"
        assets.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, temp)
        if sha256_file(temp) != wheel.sha256:  # changed while copied: a stick pulled out
            temp.unlink()
            raise ReleaseRefused(f"{wheel.filename}: changed while it was copied")
        temp.chmod(0o644)
        atomic_promote(temp, dest)
        copied += 1
    return copied


def add_release(folder: Path, now: datetime, by: str) -> list[Added]:
    """Every release in folder taken into the site, or ReleaseRefused and the site holds no
    new release document (wheels already copied stay: content-addressed, harmless)."""
    config = settings.KIOSK_PROVINCE
    if not config.release_keys:
        raise ReleaseRefused("PROVINCE.toml has no [update] release_keys: no release is taken")
    checked = [checked_release(p, config.release_keys) for p in _documents(folder)]
    done: list[Added] = []
    for release, data in checked:
        known = Release.objects.filter(version=release.version).first()
        if known is not None and bytes(known.envelope) != data:
            raise ReleaseRefused(f"version {release.version} was added before, with "
                                     "other contents: a version names one release")  # fmt: skip
        copied = _copy_wheels(release, folder / "assets", config.site_dir / "assets")
        size = sum(w.size for w in release.wheels)
        atomic_write(config.site_dir / "releases" / f"{release.version}.json", data)
        if known is not None:
            done.append(Added(release.version, len(release.wheels), copied, size, True))
            continue
        with transaction.atomic():
            Release.objects.create(
                version=release.version, issued_at=release.issued_at, added_at=now,
                added_by=by, requires_python=str(release.requires_python),
                wheels=len(release.wheels), size=size, envelope=data,
            )  # fmt: skip
            audit.record(None, "release_added",
                         detail=f"{release.version}: {len(release.wheels)} wheels, "
                                f"{size / 1e6:.1f} MB, added by {by}")  # fmt: skip
        done.append(Added(release.version, len(release.wheels), copied, size))
    return done


def write_release_documents(site: Path) -> int:
    """The site's release documents written again from the database (a lost site)."""
    n = 0
    for version, envelope in Release.objects.values_list("version", "envelope"):
        path = site / "releases" / f"{version}.json"
        if not path.is_file() or path.read_bytes() != bytes(envelope):
            atomic_write(path, bytes(envelope))
            n += 1
    return n
