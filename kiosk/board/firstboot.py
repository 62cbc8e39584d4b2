"""`kiosk firstboot`: take what the installer left on the boot partition into the system.

Run by kiosk-firstboot.service at boot when such a file is there, and whenever a new file
lands on the boot partition. Secrets leave the FAT partition (readable by anyone holding
the card) first, whatever else happens. Then everything is validated together; a bad file
leaves the configuration in force untouched, is renamed kiosk.toml.rejected, and the
reasons go to the journal and to /etc/kiosk/import-error.txt, which the screen shows.

Works on a root folder (default /) so the tests run it against a fake system.
"""

from __future__ import annotations

import argparse
import logging
import os
import re
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from kiosk.core.bootfiles import (
    BOARD_TOKEN,
    BOOT_CONFIG,
    BOOT_TOKEN,
    BOOT_WIFI,
    REJECTED_SUFFIX,
    BootFileError,
    Wifi,
    nm_keyfile,
    parse_token,
    parse_wifi,
)
from kiosk.core.bootfolder import FolderBoot, NotARegularFile
from kiosk.core.config import Config, ConfigError, parse_config_text
from kiosk.core.fsutil import atomic_write

log = logging.getLogger(__name__)

ETC = Path("etc/kiosk")
IMPORT_ERROR = "import-error.txt"  # beside kiosk.toml; the kiosk shows it on screen
BOARD_STORAGE = Path("/var/lib/kiosk")  # the one folder the hardened service may write
NM_PROFILE = Path("etc/NetworkManager/system-connections/kiosk-wifi.nmconnection")
PENDING_TOKEN, PENDING_WIFI = "pending-token", "pending-wifi.toml"


def refusal_reasons(folder: Path, limit: int = 12) -> list[str]:
    """Why the last kiosk.toml brought was refused, from import-error.txt in folder, for
    the screen: "/boot/firmware/kiosk.toml: [device] id: ..." as "kiosk.toml: [device] id:"."""
    try:
        text = (folder / IMPORT_ERROR).read_text("utf-8", "replace")
    except OSError:
        return []
    return [re.sub(r"^/\S*/", "", line) for line in text.splitlines() if line.strip()][:limit]


@dataclass
class Incoming:
    """What the boot partition brought, with secrets kept from an earlier failed import."""

    config: bytes | None
    token: bytes | None
    wifi: bytes | None


def boot_folder(root: Path) -> Path:
    """Bookworm and Trixie mount the boot partition at /boot/firmware; older at /boot."""
    firmware = root / "boot/firmware"
    return firmware if firmware.is_dir() else root / "boot"


def kiosk_gid(root: Path) -> int | None:
    """The kiosk group's id in the target system's own /etc/group."""
    try:
        lines = (root / "etc/group").read_text("utf-8").splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split(":")
        if len(fields) >= 3 and fields[0] == "kiosk" and fields[2].isdigit():
            return int(fields[2])
    return None


def _write_secret(path: Path, data: bytes, gid: int | None) -> None:
    """Mode 0600 (0640 with the kiosk group as its group), owned by root."""
    atomic_write(path, data, mode=0o640 if gid is not None else 0o600)
    if os.geteuid() == 0:
        os.chown(path, 0, gid if gid is not None else 0)
    else:
        log.warning("not root: %s keeps its owner (a test or a developer's run)", path)


def take_secrets_off(boot: RegularOnly, etc: Path) -> Incoming:
    """Move the token and Wi-Fi file from the FAT partition into root-only files at once;
    a later import uses them when the boot partition brings none."""
    got = Incoming(boot.read(BOOT_CONFIG), None, None)
    for name, pending, attr in (
        (BOOT_TOKEN, PENDING_TOKEN, "token"),
        (BOOT_WIFI, PENDING_WIFI, "wifi"),
    ):
        data = boot.read(name)
        if data is not None:
            _write_secret(etc / pending, data, None)
            boot.remove(name)
            log.info("moved %s off the boot partition", name)
        elif (etc / pending).exists():
            data = (etc / pending).read_bytes()
        setattr(got, attr, data)
    return got


def validate(
    root: Path, where: str, got: Incoming
) -> tuple[Config | None, str | None, Wifi | None, list[str]]:
    """The configuration to apply (new, or the one in force), the token and Wi-Fi, and
    every problem found."""
    problems: list[str] = []
    etc = root / ETC
    config_path = etc / "kiosk.toml"
    text, cfg_where = (got.config, where) if got.config is not None else (None, str(config_path))
    if text is None and config_path.exists():
        text = config_path.read_bytes()
    config = None
    if text is None:
        problems.append(f"{where}: no kiosk.toml here and none installed; provision the board")
    else:
        try:
            config = parse_config_text(text, cfg_where)
        except ConfigError as exc:
            problems += exc.problems
    token = wifi = None
    try:
        token = parse_token(got.token, f"{where}/{BOOT_TOKEN}") if got.token else None
        wifi = parse_wifi(got.wifi, f"{where}/{BOOT_WIFI}") if got.wifi else None
    except BootFileError as exc:
        problems += str(exc).splitlines()
    if config is not None:
        wanted = config.source.token_file
        if wanted is not None and str(wanted) != BOARD_TOKEN:
            problems.append(f"{cfg_where}: [source] token_file: must be {BOARD_TOKEN!r}")
        if got.token and wanted is None:
            problems.append(f"{cfg_where}: [source] token_file: is not set, but a token came")
        if wanted is not None and not got.token and not (root / BOARD_TOKEN[1:]).exists():
            problems.append(
                f"{cfg_where}: [source] token_file: {BOARD_TOKEN} does not exist and the boot "
                f"partition has no {BOOT_TOKEN}"
            )
        if config.storage_dir != BOARD_STORAGE:
            problems.append(
                f"{cfg_where}: [storage] dir: the board's service may write only "
                f"{BOARD_STORAGE}, got {config.storage_dir}"
            )
    if got.token and kiosk_gid(root) is None:
        problems.append(f"{root / 'etc/group'}: no kiosk group; run provisioning/install.sh")
    return config, token, wifi, problems


def hostname_of(device_id: str) -> str:
    return device_id[:63].rstrip("-")


def set_hostname(root: Path, name: str) -> None:
    """/etc/hostname and the 127.0.1.1 line of /etc/hosts, each written only if it differs."""
    hostname = root / "etc/hostname"
    if not hostname.exists() or hostname.read_text().strip() != name:
        atomic_write(hostname, f"{name}\n".encode())
    hosts = root / "etc/hosts"
    lines = hosts.read_text().splitlines() if hosts.exists() else ["127.0.0.1\tlocalhost"]
    want = f"127.0.1.1\t{name}"
    kept = [line for line in lines if not line.startswith("127.0.1.1")]
    if want not in lines or len(kept) != len(lines) - 1:
        atomic_write(hosts, ("\n".join([*kept, want]) + "\n").encode())


def set_timezone(root: Path, zone: str) -> None:
    localtime = root / "etc/localtime"
    target = f"/usr/share/zoneinfo/{zone}"
    if localtime.is_symlink() and os.readlink(localtime) == target:
        return
    tmp = localtime.with_name(".localtime.tmp")
    tmp.unlink(missing_ok=True)
    tmp.symlink_to(target)
    os.replace(tmp, localtime)
    atomic_write(root / "etc/timezone", f"{zone}\n".encode())


def apply(
    root: Path, config: Config, config_text: bytes | None, token: str | None, wifi: Wifi | None
) -> None:
    """Install a validated import into the system."""
    etc = root / ETC
    gid = kiosk_gid(root)
    if config_text is not None:
        atomic_write(etc / "kiosk.toml", config_text, mode=0o644)
    if token is not None:
        _write_secret(root / BOARD_TOKEN[1:], token.encode() + b"\n", gid)
    if wifi is not None:
        _write_secret(root / NM_PROFILE, nm_keyfile(wifi), None)
    set_hostname(root, hostname_of(config.device.id))
    set_timezone(root, config.device.timezone)
    for name in (PENDING_TOKEN, PENDING_WIFI, IMPORT_ERROR):
        (etc / name).unlink(missing_ok=True)


def _active(unit: str) -> bool:
    try:
        done = subprocess.run(["systemctl", "is-active", "--quiet", unit], timeout=30)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def _run(*command: str) -> None:
    """A system command of a live import; its failure is logged, not fatal."""
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        log.warning("%s: %s", " ".join(command), exc)
        return
    if done.returncode != 0:
        log.warning("%s: exit %d: %s", " ".join(command), done.returncode, done.stderr.strip())


BOOT_NAMES = (BOOT_CONFIG, BOOT_TOKEN, BOOT_WIFI)


class RegularOnly:
    """The boot folder as the import sees it: an entry that is not a regular file (a folder
    named kiosk-token, a link) reads as absent, and is named among the problems, so the
    rest is still handled (the Wi-Fi password still comes off the FAT partition)."""

    def __init__(self, boot: FolderBoot) -> None:
        self.boot = boot
        self.refused = {n: why for n in BOOT_NAMES if (why := boot.irregular(n)) is not None}

    def read(self, name: str) -> bytes | None:
        return None if name in self.refused else self.boot.read(name)

    def write(self, name: str, data: bytes) -> None:
        self.boot.write(name, data)

    def remove(self, name: str) -> None:
        if name not in self.refused:
            self.boot.remove(name)

    def move_aside(self) -> None:
        """Takes each refused entry off its name, as a refused kiosk.toml is renamed: left
        there, kiosk-firstboot.path (PathExists=) would start the import again and again.
        A folder becomes <name>.rejected; a link is removed (it holds nothing of its own,
        and a FAT partition has none: someone made it on purpose)."""
        for name in self.refused:
            path = self.boot.folder / name
            try:
                if path.is_symlink() or not path.is_dir():
                    path.unlink()
                else:
                    os.rename(path, path.with_name(name + REJECTED_SUFFIX))
            except OSError as exc:
                log.warning("%s: could not move it aside: %s", path, exc.strerror)


def import_boot(root: Path, boot_dir: Path, live: bool) -> int:
    """0 when there was nothing to import or it was imported, 1 when it was refused."""
    boot = RegularOnly(FolderBoot(boot_dir))
    if not boot.refused and all(boot.read(n) is None for n in BOOT_NAMES):
        log.info("nothing to import from %s", boot_dir)
        return 0
    etc = root / ETC
    etc.mkdir(parents=True, exist_ok=True)
    etc.chmod(0o755)  # the kiosk user reads kiosk.toml here, whatever the unit's umask
    got = take_secrets_off(boot, etc)
    config, token, wifi, problems = validate(root, str(boot_dir / BOOT_CONFIG), got)
    problems = list(boot.refused.values()) + problems
    boot.move_aside()
    had_config = (etc / "kiosk.toml").exists()
    if problems or config is None:
        text = "\n".join(problems)
        atomic_write(etc / IMPORT_ERROR, f"{text}\n".encode())
        if got.config is not None:
            boot.write(BOOT_CONFIG + REJECTED_SUFFIX, got.config)
            boot.remove(BOOT_CONFIG)
        print(f"refused; the configuration in force is unchanged:\n{text}", file=sys.stderr)
        if live:
            unit = "kiosk.service" if had_config else "kiosk-setup.service"
            _run("systemctl", "--no-block", "restart", unit)
        return 1
    apply(root, config, got.config, token, wifi)
    boot.remove(BOOT_CONFIG)
    print(f"imported: device {config.device.id} ({config.device.unit_name})")
    if live:
        _run("hostname", hostname_of(config.device.id))
        if wifi is not None:
            _run("nmcli", "connection", "reload")
            _run("nmcli", "--wait", "30", "connection", "up", "kiosk-wifi")
        # The setup screen holds the panel: it lets go before the kiosk takes it.
        if _active("kiosk-setup.service"):
            _run("systemctl", "stop", "kiosk-setup.service")
        _run("systemctl", "--no-block", "restart", "kiosk.service")
    return 0


SETTLE_S = 2.0  # a file not written to for this long is whole
MAX_PASSES = 5
MAX_SETTLE_WAIT_S = 60.0


def arrivals(boot_dir: Path) -> list[Path]:
    """The installer's files on the boot partition: a run removes every one it takes (or
    renames it .rejected), so any still there arrived while it ran."""
    boot = FolderBoot(boot_dir)
    return [boot_dir / n for n in BOOT_NAMES
            if boot.irregular(n) is None and (boot_dir / n).exists()]  # fmt: skip


def settle(paths: list[Path], sleep=time.sleep, now=time.time) -> None:
    """Waits (at most MAX_SETTLE_WAIT_S) until none of the files was written in the last
    SETTLE_S: one still being copied over SSH is read whole."""
    waited = 0.0
    while waited < MAX_SETTLE_WAIT_S:
        try:
            newest = max(p.stat().st_mtime for p in paths if p.exists())
        except ValueError:  # all gone meanwhile
            return
        young = SETTLE_S - (now() - newest)
        if young <= 0:
            return
        sleep(young)
        waited += young


def import_until_settled(
    root: Path, boot_dir: Path, live: bool, run=None, sleep=time.sleep, now=time.time
) -> int:
    """import_boot once the files are whole, and again while files keep arriving: systemd
    does not watch the partition while this runs. kiosk-firstboot.path's PathExists= is
    checked again when the service ends, which closes the gap after the last look here."""
    run = run or import_boot
    settle(arrivals(boot_dir), sleep, now)  # started when the first file appeared
    code = run(root, boot_dir, live)
    for _ in range(MAX_PASSES - 1):
        waiting = arrivals(boot_dir)
        if not waiting:
            break
        log.info("%s arrived meanwhile: importing again", ", ".join(p.name for p in waiting))
        settle(waiting, sleep, now)
        code = run(root, boot_dir, live)
    return code


def firstboot_command(args: argparse.Namespace) -> int:
    root = Path(args.root)
    boot = Path(args.boot) if args.boot else boot_folder(root)
    live = root.resolve() == Path("/")
    if live and os.geteuid() != 0:
        print("error: kiosk firstboot configures the system: run it as root", file=sys.stderr)
        return 2
    try:
        return import_until_settled(root, boot, live)
    except NotARegularFile as exc:  # swapped for a link or a folder while it ran
        print(f"refused: {exc}", file=sys.stderr)
        return 1
