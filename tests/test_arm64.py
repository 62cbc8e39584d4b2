"""The board's Python dependencies on 64-bit Raspberry Pi OS's architecture: in a Debian
Bookworm arm64 chroot run by qemu-user-static, the kiosk's wheel and its dependencies
install from PyPI (aarch64 wheels: pygame-ce with SDL and HarfBuzz, Pillow, cryptography),
`kiosk render` draws a Vietnamese slide that Tesseract reads back, and `kiosk check-config`
runs.

Debian's packages are unpacked, not configured (see pristine_arm64), and there is no
kernel and no boot: the x86-64 image boots in tests/test_boot.py. Needs root, debootstrap and
qemu-user-static with binfmt_misc (as .ci/run sets up), and the network to Debian's archive
and PyPI. The clean chroot is cached as a tarball between runs.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest
from PIL import Image

from tests.conftest import ROOT, require_tool, tell
from tests.test_config import GOOD
from tests.test_install_chroot import CACHE, SUITE, enter, host_ca, keep_as_tarball, mirror
from tests.test_ocr import AT, HEADER, NOTICE, edit_distance, normalise, read_back, tesseract_vie

BINFMT = Path("/proc/sys/fs/binfmt_misc/qemu-aarch64")
QEMU = "/usr/bin/qemu-aarch64-static"
INCLUDE = "python3,python3-venv,ca-certificates"


def pristine_arm64(cache: Path) -> Path:
    """Debian's arm64 packages for Python, unpacked. Not configured: debootstrap's second
    stage runs every maintainer script under emulation (8 minutes here), and what this
    test checks is the kiosk's own wheels, not Debian's scripts. The few files those
    scripts would make that Python needs (the users, the linker's cache) are made here."""
    tarball = cache / f"chroot-{SUITE}-arm64-unpacked-{INCLUDE.replace(',', '+')}.tar"
    if tarball.exists():
        return tarball
    tool = require_tool("debootstrap", "debootstrap")
    build = cache / "chroot-arm64-build"
    shutil.rmtree(build, ignore_errors=True)
    subprocess.run(
        [tool, "--arch=arm64", "--foreign", "--variant=minbase", f"--include={INCLUDE}",
         SUITE, str(build), mirror()],
        check=True, capture_output=True, timeout=900,
    )  # fmt: skip
    for deb in sorted((build / "var/cache/apt/archives").glob("*.deb")):
        subprocess.run(["dpkg-deb", "-x", str(deb), str(build)], check=True, timeout=120)
        deb.unlink()
    for name in ("passwd", "group"):
        shutil.copy(build / f"usr/share/base-passwd/{name}.master", build / f"etc/{name}")
    # binfmt_misc runs aarch64 programs through this path, looked up inside the chroot.
    (build / "usr/libexec/qemu-binfmt").mkdir(parents=True, exist_ok=True)
    shutil.copy(QEMU, build / "usr/bin/qemu-aarch64-static")
    (build / "usr/libexec/qemu-binfmt/aarch64-binfmt-P").symlink_to("../../bin/qemu-aarch64-static")
    done = subprocess.run(["chroot", str(build), "/sbin/ldconfig"], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    keep_as_tarball(build, tarball)
    return tarball


@pytest.fixture(scope="module")
def arm64(tmp_path_factory, request):
    if os.geteuid() != 0:
        pytest.skip("an arm64 chroot needs root (CI runs as root)")
    require_tool("qemu-aarch64-static", "qemu-user-static")
    require_tool("unshare", "util-linux")
    if not BINFMT.exists() or "enabled" not in BINFMT.read_text():
        require_tool("binfmt-misc-has-no-qemu-aarch64", "binfmt-support (and binfmt_misc mounted)")
    started = time.monotonic()
    root = tmp_path_factory.mktemp("arm64") / "root"
    root.mkdir()
    with tarfile.open(pristine_arm64(CACHE)) as tar:
        tar.extractall(root, filter="fully_trusted")
    shutil.copy("/etc/resolv.conf", root / "etc/resolv.conf")
    shutil.copy(host_ca(), root / "tmp/host-ca.crt")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "-w", str(root / "tmp"), ROOT],
        check=True, capture_output=True, timeout=600,
    )  # fmt: skip
    wheel = next((root / "tmp").glob("bangtin_kiosk-*.whl")).name
    done = run(
        root,
        f"python3 -m venv /opt/kiosk/venv && /opt/kiosk/venv/bin/pip install -q /tmp/{wheel}",
        1800,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    tell(request, f"\narm64 chroot ready (install included) in {time.monotonic() - started:.0f} s")
    return root


def run(root: Path, command: str, timeout: float = 600) -> subprocess.CompletedProcess:
    line = f"{enter(root)} sh -c {json.dumps(command)}"
    env = {**os.environ}
    return subprocess.run(
        ["sh", "-c", line], capture_output=True, text=True, timeout=timeout, env=env
    )


def test_the_kiosk_installs_and_runs_on_arm64(arm64):
    machine = run(
        arm64, "/opt/kiosk/venv/bin/python -c 'import platform; print(platform.machine())'"
    )
    assert machine.stdout.strip() == "aarch64", machine.stderr
    # The compiled parts are aarch64 builds, and import.
    versions = run(
        arm64,
        "/opt/kiosk/venv/bin/python -c 'import pygame, PIL, cryptography; "
        "print(pygame.version.ver, pygame.get_sdl_version())'",
    )
    assert versions.returncode == 0, versions.stderr

    (arm64 / "tmp/notice.json").write_text(json.dumps(NOTICE, ensure_ascii=False), "utf-8")
    drawn = run(
        arm64,
        "SDL_VIDEODRIVER=dummy /opt/kiosk/venv/bin/kiosk render /tmp/notice.json "
        f"--out /tmp/notice.png --size 1920x1080 --at {AT}",
    )
    assert drawn.returncode == 0, drawn.stdout + drawn.stderr
    picture = Image.open(arm64 / "tmp/notice.png")
    assert picture.size == (1920, 1080)
    read = normalise(read_back(tesseract_vie(), picture, arm64 / "tmp"))
    expected = normalise(f"{HEADER} {NOTICE['title']} {NOTICE['body']}")
    error = edit_distance(expected, read) / len(expected)
    assert error <= 0.02, f"character error {error:.2%}; Tesseract read: {read}"

    (arm64 / "tmp/kiosk.toml").write_text(GOOD, "utf-8")
    checked = run(arm64, "/opt/kiosk/venv/bin/kiosk check-config /tmp/kiosk.toml")
    assert checked.returncode == 0 and "ok" in checked.stdout, checked.stdout + checked.stderr
