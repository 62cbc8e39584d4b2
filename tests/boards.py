"""Raspberry Pi OS boot partitions for the provisioning tests: a real disk image (sfdisk,
mkfs.vfat, mtools) laid out as the stock image is, and the files an installer brings."""

from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

from tests.conftest import require_tool
from tests.test_config import GOOD

STOCK_CMDLINE = (
    "console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 "
    "fsck.repair=yes rootwait quiet splash plymouth.ignore-serial-consoles\n"
)
STOCK_CONFIG = (
    "# For more options and information see http://rptl.io/configtxt\n"
    "dtparam=audio=on\ncamera_auto_detect=1\ndisplay_auto_detect=1\nauto_initramfs=1\n"
    "# Enable DRM VC4 V3D driver\ndtoverlay=vc4-kms-v3d\nmax_framebuffers=2\n"
    "disable_fw_kms_setup=1\narm_64bit=1\ndisable_overscan=1\narm_boost=1\n"
    "[cm4]\notg_mode=1\n[all]\n"
)
BOOT_START = 8192  # sectors, as Raspberry Pi OS images have it
BOOT_SECTORS = 131072  # 64 MiB, enough clusters for FAT32 (the stock image has 512 MiB)
MTOOLS_ENV = {**os.environ, "MTOOLS_SKIP_CHECK": "1"}
TOKEN = "tok_3f9a8c1d2e7b4a6f"
WIFI = 'ssid = "UBND-TanTrao"\npassword = "mat-khau-wifi-42"\ncountry = "VN"\n'
# The sample board's kiosk.toml, its device token and Wi-Fi, as an installer has them.
KIOSK_TOML = GOOD


def make_pi_image(path: Path) -> Path:
    """An MBR image with a FAT32 boot partition holding the stock cmdline.txt and config.txt
    (and an empty root partition after it)."""
    for tool, package in (("sfdisk", "fdisk"), ("mkfs.vfat", "dosfstools"), ("mcopy", "mtools")):
        require_tool(tool, package)
    with path.open("wb") as f:
        f.truncate((BOOT_START + BOOT_SECTORS + 8192) * 512)
    table = f"label: dos\nstart={BOOT_START}, size={BOOT_SECTORS}, type=c\ntype=83\n"
    subprocess.run(["sfdisk", "-q", str(path)], input=table.encode(), check=True)
    subprocess.run(
        [
            "mkfs.vfat",
            "-F",
            "32",
            "-n",
            "BOOTFS",
            "--offset",
            str(BOOT_START),
            str(path),
            str(BOOT_SECTORS // 2),
        ],
        check=True,
        capture_output=True,
    )
    for name, text in (("cmdline.txt", STOCK_CMDLINE), ("config.txt", STOCK_CONFIG)):
        local = path.parent / name
        local.write_text(text)
        subprocess.run(
            ["mcopy", "-i", image_spec(path), str(local), f"::/{name}"],
            check=True,
            env=MTOOLS_ENV,
        )
        local.unlink()
    return path


def image_spec(image: Path) -> str:
    return f"{image}@@{BOOT_START * 512}"


def read_from_image(image: Path, name: str) -> bytes | None:
    """A file of the boot partition, read with mtools alone (not through the kiosk's code)."""
    done = subprocess.run(
        ["mcopy", "-n", "-i", image_spec(image), f"::/{name}", "-"],
        capture_output=True,
        env=MTOOLS_ENV,
    )
    return done.stdout if done.returncode == 0 else None


def image_names(image: Path) -> set[str]:
    done = subprocess.run(
        ["mdir", "-b", "-i", image_spec(image), "::/"],
        capture_output=True,
        env=MTOOLS_ENV,
        check=True,
    )
    return {line.removeprefix("::/") for line in done.stdout.decode().split()}


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def make_boot_folder(folder: Path) -> Path:
    """A mounted boot partition, as a plain folder."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "cmdline.txt").write_text(STOCK_CMDLINE)
    (folder / "config.txt").write_text(STOCK_CONFIG)
    return folder


def installer_files(tmp: Path, config: str = KIOSK_TOML) -> dict[str, Path]:
    files = {"config": tmp / "kiosk.toml", "token": tmp / "token", "wifi": tmp / "wifi.toml"}
    files["config"].write_text(config, "utf-8")
    files["token"].write_text(TOKEN + "\n")
    files["wifi"].write_text(WIFI)
    return files
