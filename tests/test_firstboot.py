"""`kiosk firstboot` against a fake root folder: what an installer left on the boot
partition goes into /etc, the secrets leave the FAT partition, a bad file changes nothing."""

from __future__ import annotations

import os
import stat
import time

import pytest

from tests.boards import TOKEN, installer_files, make_boot_folder
from tests.test_cli import kiosk
from tests.test_config import GOOD

KIOSK_GID = 990


@pytest.fixture
def root(tmp_path):
    """A system as install.sh leaves it: a kiosk group, /etc/kiosk, a boot partition."""
    if os.geteuid() != 0:
        pytest.skip("firstboot sets owners (root:kiosk): run the tests as root, as CI does")
    system = tmp_path / "root"
    (system / "etc/kiosk").mkdir(parents=True)
    (system / "etc/group").write_text(f"root:x:0:\nvideo:x:44:kiosk\nkiosk:x:{KIOSK_GID}:\n")
    (system / "etc/hostname").write_text("raspberrypi\n")
    (system / "etc/hosts").write_text("127.0.0.1\tlocalhost\n127.0.1.1\traspberrypi\n")
    make_boot_folder(system / "boot/firmware")
    return system


def provision(tmp_path, root, config=GOOD, token=True, wifi=True):
    laptop = tmp_path / "laptop"
    laptop.mkdir(exist_ok=True)
    files = installer_files(laptop, config)
    argv = ["provision", "--boot", str(root / "boot/firmware"), "--config", str(files["config"])]
    argv += ["--token-file", str(files["token"])] if token else []
    argv += ["--wifi", str(files["wifi"])] if wifi else []
    done = kiosk(*argv)
    assert done.returncode == 0, done.stderr
    return files


def firstboot(root):
    return kiosk("firstboot", "--root", str(root))


def only_owner_and_group(path, uid, gid, mode):
    info = path.stat()
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (uid, gid, mode), path


def test_first_boot_imports_everything_and_leaves_no_secret_on_the_boot_partition(tmp_path, root):
    files = provision(tmp_path, root)
    done = firstboot(root)
    assert done.returncode == 0, done.stderr
    assert TOKEN not in done.stdout + done.stderr
    boot = root / "boot/firmware"
    assert sorted(p.name for p in boot.iterdir()) == ["cmdline.txt", "config.txt"]
    for path in boot.iterdir():
        assert TOKEN.encode() not in path.read_bytes()
        assert b"mat-khau-wifi-42" not in path.read_bytes()

    etc = root / "etc/kiosk"
    assert (etc / "kiosk.toml").read_bytes() == files["config"].read_bytes()
    assert (etc / "token").read_text().strip() == TOKEN
    only_owner_and_group(etc / "token", 0, KIOSK_GID, 0o640)  # root and the kiosk user
    profile = root / "etc/NetworkManager/system-connections/kiosk-wifi.nmconnection"
    assert "psk=mat-khau-wifi-42" in profile.read_text()
    only_owner_and_group(profile, 0, 0, 0o600)  # NetworkManager's rule: root only
    assert not list(etc.glob("pending-*")) and not (etc / "import-error.txt").exists()
    assert (root / "etc/hostname").read_text() == "08-02263-01\n"
    assert "127.0.1.1\t08-02263-01" in (root / "etc/hosts").read_text().splitlines()
    assert "raspberrypi" not in (root / "etc/hosts").read_text()
    assert os.readlink(root / "etc/localtime") == "/usr/share/zoneinfo/Asia/Ho_Chi_Minh"

    # Nothing new on the boot partition: the next boot changes nothing.
    before = {p: p.stat().st_mtime_ns for p in root.rglob("*") if not p.is_symlink()}
    again = firstboot(root)
    assert again.returncode == 0 and "nothing to import" in again.stderr
    assert {p: p.stat().st_mtime_ns for p in root.rglob("*") if not p.is_symlink()} == before


def test_a_bad_file_keeps_the_configuration_in_force_and_says_why(tmp_path, root):
    provision(tmp_path, root)
    assert firstboot(root).returncode == 0
    etc = root / "etc/kiosk"
    good = {name: (etc / name).read_bytes() for name in ("kiosk.toml", "token")}

    # A new token, and a kiosk.toml edited by hand on the card, wrongly.
    provision(tmp_path, root)
    bad = GOOD.replace('unit_kind = "xa"', 'unit_kind = "xã"')
    (root / "boot/firmware/kiosk.toml").write_text(bad, "utf-8")
    done = firstboot(root)
    assert done.returncode == 1
    assert "unit_kind" in done.stderr and "Traceback" not in done.stderr
    assert {name: (etc / name).read_bytes() for name in good} == good
    boot = root / "boot/firmware"
    assert sorted(p.name for p in boot.iterdir()) == [
        "cmdline.txt",
        "config.txt",
        "kiosk.toml.rejected",
    ]
    assert "unit_kind" in (etc / "import-error.txt").read_text()
    only_owner_and_group(etc / "pending-token", 0, 0, 0o600)

    # The installer fixes the file; the token that came with the bad one is used.
    (etc / "token").write_text("the old token\n")
    provision(tmp_path, root, token=False, wifi=False)
    assert not (boot / "kiosk.toml.rejected").exists()
    done = firstboot(root)
    assert done.returncode == 0, done.stderr
    assert (etc / "token").read_text().strip() == TOKEN
    assert not (etc / "import-error.txt").exists() and not (etc / "pending-token").exists()


def test_a_board_that_never_had_a_configuration_is_told_what_is_missing(tmp_path, root):
    boot = root / "boot/firmware"
    (boot / "kiosk-token").write_text(TOKEN + "\n")  # a token alone, without kiosk.toml
    done = firstboot(root)
    assert done.returncode == 1 and "no kiosk.toml" in done.stderr
    assert not (boot / "kiosk-token").exists()
    assert not (root / "etc/kiosk/kiosk.toml").exists()
    assert (
        "kiosk provision" in (root / "etc/kiosk/import-error.txt").read_text()
        or "provision" in (root / "etc/kiosk/import-error.txt").read_text()
    )


def test_a_token_for_a_config_without_token_file_is_refused(tmp_path, root):
    provision(tmp_path, root, config=GOOD)
    (root / "boot/firmware/kiosk.toml").write_text(
        GOOD.replace('token_file = "/etc/kiosk/token"\n', ""), "utf-8"
    )
    done = firstboot(root)
    assert done.returncode == 1 and "token_file" in done.stderr
    assert not (root / "etc/kiosk/kiosk.toml").exists()


def test_a_kiosk_toml_nested_too_deeply_is_refused_and_says_why(root):
    """tomllib recurses: a file nested thousands deep was a RecursionError traceback, with
    neither a .rejected file nor import-error.txt (issue 14)."""
    boot = root / "boot/firmware"
    (boot / "kiosk.toml").write_text("x = " + "[" * 5000 + "]" * 5000 + "\n" + GOOD, "utf-8")
    done = firstboot(root)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    assert (boot / "kiosk.toml.rejected").exists()
    assert "nested" in (root / "etc/kiosk/import-error.txt").read_text()


def test_files_that_land_while_firstboot_runs_are_taken_in_the_same_run(tmp_path, root):
    """systemd merges a path event that comes while kiosk-firstboot.service runs into the
    running job: kiosk.toml copied just after kiosk-token must not wait for the next boot."""
    from kiosk.board.firstboot import import_boot, import_until_settled

    files = provision(tmp_path, root)
    boot = root / "boot/firmware"
    late_config = (boot / "kiosk.toml").read_bytes()
    (boot / "kiosk.toml").unlink()  # the installer's copy has only reached the token so far
    passes, slept = [], []
    clock = [time.time() + 60]  # the copy's clock: sleeping moves it on (the token is old)

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        clock[0] += seconds

    def run(root_, boot_, live):
        code = import_boot(root_, boot_, live)
        passes.append(code)
        if len(passes) == 1:  # ...and kiosk.toml lands while this first pass works
            (boot / "kiosk.toml").write_bytes(late_config)
            os.utime(boot / "kiosk.toml", (clock[0], clock[0]))  # written just now
        return code

    assert import_until_settled(root, boot, False, run=run, sleep=sleep, now=lambda: clock[0]) == 0
    assert passes == [1, 0]  # refused (no configuration yet), then imported
    assert slept == [pytest.approx(2.0, abs=0.01)]  # the copy settled, then no more waiting
    assert (root / "etc/kiosk/kiosk.toml").read_bytes() == late_config
    assert not (boot / "kiosk.toml").exists() and not (root / "etc/kiosk/import-error.txt").exists()
    assert files["token"].read_text().strip() == (root / "etc/kiosk/token").read_text().strip()


def test_a_folder_or_a_link_on_the_boot_partition_is_refused_and_followed_nowhere(tmp_path, root):
    """Issue 24, 15: a folder named kiosk-token crashed firstboot at every boot (nothing
    imported, no message, the Wi-Fi password left on the FAT partition); a kiosk.toml
    linked to another file was copied back world-readable as kiosk.toml.rejected."""
    boot, etc = root / "boot/firmware", root / "etc/kiosk"
    provision(tmp_path, root)
    (boot / "kiosk-token").unlink()
    (boot / "kiosk-token").mkdir()
    (boot / "kiosk-token" / "token").write_text(TOKEN)
    done = firstboot(root)
    assert done.returncode == 1 and "Traceback" not in done.stderr, done.stderr
    problems = (etc / "import-error.txt").read_text()
    assert "kiosk-token: is a folder" in problems  # shown on the setup screen
    # moved aside, or kiosk-firstboot.path (PathExists=) would start the import again
    assert not (boot / "kiosk-token").exists()
    assert (boot / "kiosk-token.rejected" / "token").read_text() == TOKEN
    assert not (boot / "kiosk-wifi.toml").exists()  # the Wi-Fi password is off the card
    assert b"mat-khau-wifi-42" in (etc / "pending-wifi.toml").read_bytes()  # root only
    assert not (etc / "kiosk.toml").exists()

    # a kiosk.toml that is a link to a secret of the system: never read, never copied
    secret = root / "etc/shadow"
    secret.write_text("root:$6$bi-mat:19000:0:99999:7:::\n")
    (boot / "kiosk-token.rejected").joinpath("token").unlink()
    (boot / "kiosk-token.rejected").rmdir()
    assert (boot / "kiosk.toml.rejected").exists()  # the first run's, a regular file
    (boot / "kiosk.toml.rejected").unlink()
    (boot / "kiosk.toml").symlink_to(secret)
    linked = firstboot(root)
    assert linked.returncode == 1 and "Traceback" not in linked.stderr
    assert "kiosk.toml: is a symbolic link" in (etc / "import-error.txt").read_text()
    assert not (boot / "kiosk.toml.rejected").exists()
    assert not (boot / "kiosk.toml").is_symlink()  # removed: nothing to start the import again
    assert secret.exists()
    everything = b"".join(p.read_bytes() for p in root.rglob("*") if p.is_file()
                          and not p.is_symlink() and p != secret)  # fmt: skip
    assert b"bi-mat" not in everything
