"""Installing a verified release beside the running one (SPEC 8.3): a venv of its own in
releases/<version>, pip offline from the verified wheels only, the release's own self-check,
then the marker that makes it whole. Nothing here touches `current`.

A power cut, a full disk or a refused self-check leaves a folder without its marker, which
is removed (now, or by the next attempt, or at boot): the running release and its
predecessor are never touched.
"""

from __future__ import annotations

import errno
import os
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path

from kiosk.board.releasedir import ReleaseDir
from kiosk.core.release import UpdateError, Wheel

VENV_DEADLINE_S = 300
PIP_DEADLINE_S = 900  # 24 wheels on a Pi 3's SD card take about two minutes
SELFCHECK_DEADLINE_S = 180


def base_python() -> str:
    """The system's interpreter, not the running venv's: a release's venv must not depend on
    the release it replaces (which is removed two releases later)."""
    return getattr(sys, "_base_executable", None) or sys.executable


def _run(argv: list[str], deadline_s: float, env: dict[str, str] | None = None) -> str:
    """Runs a step; its output when it fails, else ''. A step past its deadline is killed."""
    try:
        done = subprocess.run(
            argv, capture_output=True, text=True, timeout=deadline_s, env=env, check=False
        )
    except subprocess.TimeoutExpired:
        return f"took over {deadline_s:.0f} s"
    if done.returncode == 0:
        return ""
    lines = (done.stderr or done.stdout).strip().splitlines()
    return f"exit {done.returncode}: " + " / ".join(lines[-4:])[-600:]


def install_release(
    layout: ReleaseDir,
    version: str,
    wheels: Sequence[Wheel],
    config_path: Path | None,
    python: str | None = None,
) -> Path:
    """Installs and checks; returns releases/<version>, or raises UpdateError (reason
    install_failed, selfcheck_failed or disk_full) leaving nothing installed."""
    partial = layout.release_path(version)
    if layout.is_installed(version):
        return partial
    shutil.rmtree(partial, ignore_errors=True)
    try:
        return _install(layout, partial, version, wheels, config_path, python or base_python())
    except OSError as exc:
        shutil.rmtree(partial, ignore_errors=True)
        if exc.errno in (errno.ENOSPC, errno.EDQUOT):
            raise UpdateError(
                "disk_full", f"the disk filled during install ({exc.strerror})", version
            ) from None
        raise UpdateError("install_failed", f"{exc}", version) from None
    except UpdateError:
        shutil.rmtree(partial, ignore_errors=True)
        raise


def _install(
    layout: ReleaseDir,
    partial: Path,
    version: str,
    wheels: Sequence[Wheel],
    config_path: Path | None,
    python: str,
) -> Path:
    # System site packages: lgpio (GPIO) is an apt package on Raspberry Pi OS.
    failed = _run([python, "-m", "venv", "--system-site-packages", str(partial)], VENV_DEADLINE_S)
    if failed:
        raise UpdateError("install_failed", f"the venv could not be made: {failed}", version)
    named = partial / ".wheels"  # pip wants wheels under their own names
    named.mkdir()
    for wheel in wheels:
        source = layout.wheel_path(wheel.sha256)
        try:
            os.link(source, named / wheel.filename)
        except OSError:
            shutil.copyfile(source, named / wheel.filename)
    new_python = str(partial / "bin" / "python")
    # Nothing but these wheels: no index, no other links, no constraints, no cache. Without
    # --no-deps pip still checks that the wheels are all the release needs.
    env = {k: v for k, v in os.environ.items() if not k.startswith("PIP_")}
    env |= {"PIP_CONFIG_FILE": os.devnull, "PIP_NO_INPUT": "1"}
    failed = _run(
        [
            new_python,
            "-m",
            "pip",
            "install",
            "--quiet",
            "--no-index",
            "--no-cache-dir",
            "--disable-pip-version-check",
            *(str(named / w.filename) for w in wheels),
        ],
        PIP_DEADLINE_S,
        env,
    )
    shutil.rmtree(named, ignore_errors=True)
    if failed:
        if "No space left" in failed:
            raise OSError(errno.ENOSPC, "No space left on device")
        raise UpdateError("install_failed", f"pip refused the wheels: {failed}", version)
    # -I: the release's own code alone, whatever the working folder or PYTHONPATH hold
    check = [new_python, "-I", "-m", "kiosk", "selfcheck"]
    if config_path is not None:
        check += ["--config", str(config_path)]
    failed = _run(check, SELFCHECK_DEADLINE_S, {**os.environ, "SDL_VIDEODRIVER": "dummy"})
    if failed:
        raise UpdateError(
            "selfcheck_failed", f"the new release's self-check failed: {failed}", version
        )
    return layout.mark_installed(version, sorted(w.sha256 for w in wheels))
