"""provisioning/install.sh inside a Debian Bookworm chroot made by debootstrap, twice.

Stands in for a stock Raspberry Pi OS Lite (which is Debian Bookworm or Trixie plus
Raspberry Pi's own packages): what needs the Pi itself is listed in provisioning/README.md.
Needs root (chroot, mounts in a private namespace) and the network to Debian's archive and
PyPI, as .ci/run has. The clean chroot is cached as a tarball between runs.
"""

from __future__ import annotations

import json
import os
import shutil
import ssl
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from tests.boards import STOCK_CMDLINE, STOCK_CONFIG
from tests.conftest import ROOT, require_tool

SUITE = "bookworm"
INCLUDE = "systemd,systemd-sysv,passwd"  # what Raspberry Pi OS Lite has and minbase lacks
CACHE = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "bangtin-kiosk"
# Not compared between the two runs: mounts, temp files, logs and apt's own caches.
VOLATILE = (
    "proc",
    "sys",
    "dev",
    "run",
    "tmp",
    "var/log",
    "var/cache",
    "var/lib/apt/lists",
    "root/.cache",
)


def mirror() -> str:
    """The Debian archive the host's apt uses (this workplace reaches no other)."""
    for source in (Path("/etc/apt/sources.list.d/debian.sources"), Path("/etc/apt/sources.list")):
        if not source.exists():
            continue
        for line in source.read_text().splitlines():
            words = line.split()
            if words[:1] in (["URIs:"], ["deb"]) and "security" not in line:
                return words[1]
    return "http://deb.debian.org/debian"


def pristine(cache: Path) -> Path:
    tarball = cache / f"chroot-{SUITE}-{INCLUDE.replace(',', '+')}.tar"
    if not tarball.exists():
        tool = require_tool("debootstrap", "debootstrap")
        build = cache / "chroot-build"
        shutil.rmtree(build, ignore_errors=True)
        subprocess.run(
            [tool, "--variant=minbase", f"--include={INCLUDE}", SUITE, str(build), mirror()],
            check=True,
            capture_output=True,
            timeout=900,
        )
        keep_as_tarball(build, tarball)
    return tarball


def keep_as_tarball(build: Path, tarball: Path) -> None:
    """A chroot made once, kept between runs (whole, or not at all), its folder removed."""
    partial = tarball.with_suffix(".part")
    with tarfile.open(partial, "w") as tar:
        tar.add(build, arcname=".")
    partial.rename(tarball)
    shutil.rmtree(build)


def host_ca() -> str:
    """The host's certificate authorities, for pip in a chroot (this workplace's registries
    are behind its own)."""
    return (
        os.environ.get("PIP_CERT")
        or ssl.get_default_verify_paths().cafile
        or "/etc/ssl/certs/ca-certificates.crt"
    )


def fresh_chroot(root: Path) -> Path:
    """A stock system (Bookworm, standing in for Raspberry Pi OS Lite) with this checkout
    and its wheel in /tmp."""
    if os.geteuid() != 0:
        pytest.skip("install.sh in a chroot needs root (CI runs as root)")
    require_tool("unshare", "util-linux")
    tarball = pristine(CACHE)
    root.mkdir(parents=True)
    with tarfile.open(tarball) as tar:
        tar.extractall(root, filter="fully_trusted")
    # The chroot reaches the same archives as the host, with the host's apt settings and
    # certificate authorities (this workplace's registries are behind its own).
    for conf in Path("/etc/apt/apt.conf.d").iterdir():
        if not (root / "etc/apt/apt.conf.d" / conf.name).exists():
            shutil.copy(conf, root / "etc/apt/apt.conf.d")
    shutil.copy(host_ca(), root / "tmp/host-ca.crt")
    # A Raspberry Pi OS boot partition.
    (root / "boot/firmware").mkdir(parents=True)
    (root / "boot/firmware/cmdline.txt").write_text(STOCK_CMDLINE)
    (root / "boot/firmware/config.txt").write_text(STOCK_CONFIG)
    # The source tree (as committed files would be) and its wheel.
    shutil.copytree(
        ROOT,
        root / "tmp/kiosk-src",
        ignore=shutil.ignore_patterns(
            ".git",
            ".venv",
            "*.egg-info",
            "__pycache__",
            "dist",
            "build",
            ".pytest_cache",
            ".ruff_cache",
        ),
    )
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "-q",
            "--no-deps",
            "-w",
            str(root / "tmp"),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
        timeout=600,
    )
    return root


@pytest.fixture(scope="module")
def chroot(tmp_path_factory):
    return fresh_chroot(tmp_path_factory.mktemp("pi") / "root")


def enter(root: Path) -> str:
    """A shell command that runs its arguments inside root, with /dev, /proc and /sys
    mounted in a private namespace (gone when it ends), as pi-gen's on_chroot does."""
    mounts = (
        f"mount --rbind /dev {root}/dev && mount -t proc proc {root}/proc && "
        f"mount -t sysfs sys {root}/sys && exec chroot {root} /usr/bin/env -i "
        "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root "
        'LANG=C.UTF-8 PIP_CERT=/tmp/host-ca.crt "$@"'
    )
    return f"unshare --mount --propagation private -- sh -c '{mounts}' sh"


def install(root: Path) -> subprocess.CompletedProcess:
    wheel = next((root / "tmp").glob("bangtin_kiosk-*.whl")).name
    command = f"{enter(root)} bash /tmp/kiosk-src/provisioning/install.sh --wheel /tmp/{wheel}"
    return subprocess.run(["sh", "-c", command], capture_output=True, text=True, timeout=1200)


def run_pi_gen_stage(root: Path) -> subprocess.CompletedProcess:
    """The pi-gen stage's script, with pi-gen's on_chroot played by enter()."""
    stage = ROOT / "provisioning/pi-gen/stage-kiosk/00-kiosk/00-run.sh"
    command = f"on_chroot() {{ {enter(root)} bash -e -s; }}; export -f on_chroot; bash {stage}"
    env = {**os.environ, "ROOTFS_DIR": str(root), "KIOSK_SRC": str(ROOT)}
    return subprocess.run(
        ["bash", "-c", command], capture_output=True, text=True, timeout=1200, env=env
    )


def snapshot(root: Path) -> dict[str, tuple]:
    """Every file's kind, mode, owner, size, mtime and link target."""
    out = {}
    for path in root.rglob("*"):
        rel = path.relative_to(root).as_posix()
        if rel.startswith(VOLATILE):
            continue
        info = path.lstat()
        link = os.readlink(path) if path.is_symlink() else None
        out[rel] = (info.st_mode, info.st_uid, info.st_gid, info.st_size, info.st_mtime_ns, link)
    return out


def in_chroot(root: Path, *command: str) -> str:
    done = subprocess.run(
        ["chroot", str(root), *command], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_install_sh_makes_a_board_and_a_second_run_changes_nothing(chroot):
    first = install(chroot)
    assert first.returncode == 0, first.stdout + first.stderr

    # The kiosk user, in the groups for the screen, input and GPIO.
    groups = in_chroot(chroot, "id", "-nG", "kiosk").split()
    assert set(groups) >= {"kiosk", "video", "render", "input", "gpio", "spi"}
    shell = in_chroot(chroot, "getent", "passwd", "kiosk").strip().split(":")[-1]
    assert shell == "/usr/sbin/nologin"
    # The first release (A) laid out as every update lays out its own (SPEC 8.3): a venv
    # that sees the system's site packages (lgpio on a Pi), whole by its marker, its wheels
    # held for the next update, `current` and `committed` naming it, the updater's state.
    version = in_chroot(chroot, "/opt/kiosk/current/bin/kiosk", "--version").split()[1]
    release = chroot / "opt/kiosk/releases" / version
    assert "include-system-site-packages = true" in (release / "pyvenv.cfg").read_text()
    marker = json.loads((release / ".kiosk-release.json").read_text())
    assert marker["version"] == version and len(marker["wheels"]) >= 15
    held = {p.name for p in (chroot / "opt/kiosk/wheels").iterdir()}
    assert held == set(marker["wheels"])
    for link in ("current", "committed"):
        assert os.readlink(chroot / "opt/kiosk" / link) == f"releases/{version}"
    state = json.loads((chroot / "opt/kiosk/state.json").read_text())
    assert (state["phase"], state["current"], state["committed"]) == ("idle", version, version)
    assert os.readlink(chroot / "usr/local/bin/kiosk") == "/opt/kiosk/current/bin/kiosk"
    checked = in_chroot(
        chroot, "/opt/kiosk/current/bin/kiosk", "check-config", "/tmp/kiosk-src/kiosk/default.toml"
    )
    assert "ok" in checked
    recovered = in_chroot(chroot, "/opt/kiosk/committed/bin/kiosk", "update", "--recover")
    assert f"current release {version}, idle" in recovered
    # The units, enabled; the folders; the journal in memory.
    wants = chroot / "etc/systemd/system/multi-user.target.wants"
    for unit in (
        "kiosk.service",
        "kiosk-firstboot.service",
        "kiosk-firstboot.path",
        "kiosk-setup.service",
        "kiosk-update.service",
        "kiosk-update-recover.service",
    ):
        assert (chroot / "etc/systemd/system" / unit).read_bytes() == (
            ROOT / "systemd" / unit
        ).read_bytes()
        assert (wants / unit).is_symlink(), unit
    # OS updates: our timer, our apt settings (security only, no reboot of its own), and
    # apt's own timers masked so that nothing downloads while the screen is on
    assert (chroot / "etc/systemd/system/timers.target.wants/kiosk-os-update.timer").is_symlink()
    for unit in ("kiosk-os-update.service", "kiosk-os-update.timer"):
        assert (chroot / "etc/systemd/system" / unit).read_bytes() == (
            ROOT / "systemd" / unit
        ).read_bytes()
    for timer in ("apt-daily.timer", "apt-daily-upgrade.timer"):
        assert os.readlink(chroot / "etc/systemd/system" / timer) == "/dev/null", timer
    apt_conf = (chroot / "etc/apt/apt.conf.d/52kiosk-unattended-upgrades").read_text()
    assert 'Automatic-Reboot "false"' in apt_conf and "label=Debian-Security" in apt_conf
    assert (chroot / "usr/bin/unattended-upgrade").exists()
    state = (chroot / "var/lib/kiosk").stat()
    assert oct(state.st_mode & 0o777) == "0o750"
    assert state.st_uid == int(in_chroot(chroot, "id", "-u", "kiosk"))
    assert (chroot / "etc/kiosk").is_dir()
    journald = (chroot / "etc/systemd/journald.conf.d/kiosk.conf").read_text()
    assert "Storage=volatile" in journald and "RuntimeMaxUse=" in journald
    # The kernel command line for a screen that may be off at boot; still one line.
    cmdline = (chroot / "boot/firmware/cmdline.txt").read_text()
    assert cmdline.count("\n") == 1
    for param in ("consoleblank=0", "vc4.force_hotplug=1", "video=HDMI-A-1:1920x1080@60D"):
        assert param in cmdline.split()
    assert cmdline.split()[: len(STOCK_CMDLINE.split())] == STOCK_CMDLINE.split()

    before = snapshot(chroot)
    second = install(chroot)
    assert second.returncode == 0, second.stdout + second.stderr
    assert "wrote" not in second.stdout and "installing" not in second.stdout, second.stdout
    after = snapshot(chroot)
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    assert changed == [], changed[:20]


def test_the_pi_gen_stage_makes_the_same_board_as_install_sh(chroot, tmp_path):
    """Both run install.sh; the stage builds its own wheel on the host first."""
    if not (chroot / "opt/kiosk/current").exists():
        assert install(chroot).returncode == 0
    image = fresh_chroot(tmp_path / "image")
    done = run_pi_gen_stage(image)
    assert done.returncode == 0, done.stdout + done.stderr
    assert not (image / "tmp/kiosk-src").exists()  # nothing of the build left in the image

    def result(root: Path) -> dict[str, tuple]:
        out = {}
        for rel, (mode, uid, gid, _size, _mtime, link) in snapshot(root).items():
            if rel.startswith(("etc/", "boot/", "var/lib/kiosk", "opt/kiosk/state.json")):
                path = root / rel
                body = path.read_bytes() if path.is_file() and not path.is_symlink() else None
                out[rel] = (mode, uid, gid, link, body)
            elif rel.startswith("opt/kiosk/wheels/"):
                # The held wheels are named by their SHA-256: the dependencies' are the
                # index's files, the same in both; the kiosk's own wheel is built from two
                # different copies of the source (the host's checkout, the chroot's), so
                # only their number is compared.
                out.setdefault("opt/kiosk/wheels (count)", [0])[0] += 1
            elif rel.startswith("opt/kiosk") and "__pycache__" not in rel:
                out[rel] = (mode,)
        return out

    ours, theirs = result(chroot), result(image)
    differ = sorted(k for k in ours.keys() | theirs.keys() if ours.get(k) != theirs.get(k))
    assert differ == [], differ[:20]
