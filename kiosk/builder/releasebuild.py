"""`kiosk release build` (SPEC 4, 8.1): the kiosk's wheel and every dependency's wheels for
the boards' platforms, content-addressed as `assets/<sha256>`, and the signed
`releases/<version>.json`.

Reproducible: the wheel is built from a copy of the tree's tracked files with normalised
modes and a fixed SOURCE_DATE_EPOCH, so the same checkout gives the same hashes (and a
board that holds a dependency's wheel never fetches it again). pip does the building and
the downloading; nothing here resolves dependencies by hand.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from email.parser import HeaderParser
from pathlib import Path

from packaging.utils import canonicalize_name, parse_wheel_filename

from kiosk.core.errors import UsageError
from kiosk.core.fsutil import atomic_promote, atomic_write, sha256_file, stage_write
from kiosk.core.release import KIOSK_PROJECT, UpdateError, parse_release
from kiosk.core.signing import RELEASE_TYPE, load_private_key, sign_envelope
from kiosk.core.timeutil import format_rfc3339

# Raspberry Pi OS Bookworm has glibc 2.36: every manylinux tag up to it runs there. Newest
# first, as the board's own pip ranks them: install.sh then holds the same files.
BOOKWORM_AARCH64 = (
    *(f"manylinux_2_{n}_aarch64" for n in range(36, 16, -1)),
    "manylinux2014_aarch64",
)
DEFAULT_PYTHON = "3.11"
SOURCE_DATE_EPOCH = "315532800"  # 1980-01-01, the earliest a zip can say; install.sh's too
PIP_DEADLINE_S = 1800
_PLATFORM = re.compile(r"^(manylinux_\d+_\d+|manylinux\d+|musllinux_\d+_\d+|linux)_(\w+)\Z")
_SKIPPED = {".git", ".venv", "build", "dist", "__pycache__", ".pytest_cache", ".ruff_cache"}


class ReleaseBuildError(Exception):
    """The build failed (pip's error, a disk error): exit 1 with its message."""


def by_architecture(platforms: Iterable[str]) -> dict[str, list[str]]:
    """pip chooses one wheel per project for one download: tags of different machines
    (aarch64 and x86_64) need downloads of their own, tags of one machine belong together
    (wheels carry different manylinux tags)."""
    groups: dict[str, list[str]] = {}
    for tag in platforms:
        match = _PLATFORM.match(tag)
        groups.setdefault(match.group(2) if match else tag, []).append(tag)
    return groups


def tracked_files(tree: Path) -> list[Path]:
    """The files a release is made of: in a checkout, git's files, tracked or new, less what
    .gitignore ignores (a stray build/ folder or a venv is never shipped); else every file
    but caches."""
    if (tree / ".git").exists() and shutil.which("git"):
        out = subprocess.run(
            [
                "git",
                "-C",
                str(tree),
                "ls-files",
                "-z",
                "--cached",
                "--others",
                "--exclude-standard",
            ],
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout
        return sorted({tree / name for name in out.decode().split("\0") if name})
    return sorted(
        path
        for path in tree.rglob("*")
        if path.is_file() and not _SKIPPED & set(path.relative_to(tree).parts)
    )


def copy_tree(tree: Path, dest: Path) -> None:
    """Modes 0644 or 0755 whatever the checkout's umask: the wheel records them."""
    for path in tracked_files(tree):
        if not path.is_file():  # tracked, but deleted in the working tree
            continue
        target = dest / path.relative_to(tree)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
        target.chmod(0o755 if os.access(path, os.X_OK) else 0o644)


def _pip(args: list[str], env: dict[str, str] | None = None) -> None:
    try:
        done = subprocess.run(
            [sys.executable, "-m", "pip", "--disable-pip-version-check", *args],
            capture_output=True,
            text=True,
            timeout=PIP_DEADLINE_S,
            env=env,
        )
    except subprocess.TimeoutExpired:
        raise ReleaseBuildError(f"pip {args[0]} took over {PIP_DEADLINE_S} s") from None
    if done.returncode != 0:
        tail = "\n".join(done.stderr.strip().splitlines()[-12:])
        raise ReleaseBuildError(f"pip {args[0]} failed:\n{tail}")


def build_kiosk_wheel(tree: Path, work: Path) -> Path:
    source = work / "source"
    copy_tree(tree, source)
    if not (source / "pyproject.toml").is_file():
        raise UsageError(f"{tree}: no pyproject.toml among its files: not the project's tree")
    env = {**os.environ, "SOURCE_DATE_EPOCH": SOURCE_DATE_EPOCH, "PYTHONHASHSEED": "0"}
    _pip(["wheel", "--quiet", "--no-deps", "--wheel-dir", str(work / "kiosk"), str(source)], env)
    wheels = [
        w
        for w in (work / "kiosk").glob("*.whl")
        if canonicalize_name(parse_wheel_filename(w.name)[0]) == KIOSK_PROJECT
    ]
    if len(wheels) != 1:
        raise UsageError(f"{tree}: the tree did not build one {KIOSK_PROJECT} wheel")
    return wheels[0]


def download_dependencies(
    kiosk_wheel: Path, platforms: list[str], python: str, work: Path
) -> list[Path]:
    """Every wheel the kiosk needs on each machine, binary only: a board has no compiler."""
    found: list[Path] = []
    for arch, tags in sorted(by_architecture(platforms).items()):
        folder = work / "deps" / arch
        args = ["download", "--quiet", "--only-binary=:all:", "--dest", str(folder)]
        args += ["--python-version", python, "--implementation", "cp"]
        for tag in tags:
            args += ["--platform", tag]
        _pip([*args, str(kiosk_wheel)])
        found += sorted(folder.glob("*.whl"))
    return found


def requires_python(kiosk_wheel: Path) -> str:
    with zipfile.ZipFile(kiosk_wheel) as z:
        name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        meta = HeaderParser().parsestr(z.read(name).decode("utf-8"))
    return meta.get("Requires-Python") or ">=3"


def publish_wheels(wheels: Iterable[Path], out: Path) -> list[dict[str, object]]:
    """Each wheel once as assets/<sha256> (a pure wheel shared by two machines is one file)."""
    listed: dict[str, dict[str, object]] = {}
    for wheel in wheels:
        digest = sha256_file(wheel)
        entry = {"filename": wheel.name, "sha256": digest, "size": wheel.stat().st_size}
        if wheel.name in listed:
            if listed[wheel.name]["sha256"] != digest:
                raise ReleaseBuildError(f"two different files are both named {wheel.name}")
            continue
        listed[wheel.name] = entry
        asset = out / "assets" / digest
        if not asset.exists():
            atomic_promote(stage_write(asset, wheel.read_bytes()), asset)
    return [listed[name] for name in sorted(listed)]


def build_release(
    tree: Path,
    out: Path,
    key_path: Path,
    platforms: list[str],
    python: str,
    clock: Callable[[], datetime] = lambda: datetime.now(UTC),
) -> dict[str, object]:
    """Builds, downloads, publishes and signs; returns the release document."""
    try:
        key = load_private_key(key_path)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    with tempfile.TemporaryDirectory(prefix="kiosk-release-") as tmp:
        work = Path(tmp)
        kiosk_wheel = build_kiosk_wheel(tree, work)
        version = parse_wheel_filename(kiosk_wheel.name)[1]
        target = out / "releases" / f"{version}.json"
        if target.exists():
            raise UsageError(
                f"{target} exists: a version is released once (raise kiosk.__version__)"
            )
        wheels = download_dependencies(kiosk_wheel, platforms, python, work)
        if kiosk_wheel.name not in {w.name for w in wheels}:
            wheels.append(kiosk_wheel)
        doc: dict[str, object] = {
            "format": 1,
            "version": str(version),
            "issued_at": format_rfc3339(clock()),
            "requires_python": requires_python(kiosk_wheel),
            "wheels": publish_wheels(wheels, out),
        }
    try:
        parse_release(doc)  # what we sign, a board must be able to read
    except UpdateError as exc:
        raise ReleaseBuildError(f"the release would be refused by a board: {exc}") from None
    payload = json.dumps(doc, ensure_ascii=False, indent=1).encode("utf-8")
    atomic_write(target, sign_envelope(payload, key, RELEASE_TYPE))
    return doc


def release_build_command(args: argparse.Namespace) -> int:
    platforms = args.platform or list(BOOKWORM_AARCH64)
    python = args.python or DEFAULT_PYTHON
    if not re.fullmatch(r"3\.\d{1,2}", python):
        raise UsageError(f"--python {python!r}: give a version such as 3.11")
    try:
        doc = build_release(
            Path(args.source or "."), Path(args.out), Path(args.key), platforms, python
        )
    except ReleaseBuildError as exc:
        print(f"release build failed: {exc}", file=sys.stderr)
        return 1
    wheels = doc["wheels"]
    assert isinstance(wheels, list)
    total = sum(int(w["size"]) for w in wheels)
    print(
        f"release {doc['version']}: {len(wheels)} wheels, {total / 1e6:.1f} MB, for "
        f"{', '.join(sorted(by_architecture(platforms)))} and Python {python}; "
        f"signed as {args.out}/releases/{doc['version']}.json"
    )
    return 0
