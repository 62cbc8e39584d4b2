"""`kiosk provision` into a real Raspberry Pi OS disk image (sfdisk, mkfs.vfat, mtools) and
into a mounted folder, from a kiosk.toml and from a CSV row, read back with mtools."""

from __future__ import annotations

import gzip
import tomllib

import pytest

from kiosk.core.config import load_config
from tests.boards import (
    STOCK_CMDLINE,
    STOCK_CONFIG,
    TOKEN,
    digest,
    image_names,
    installer_files,
    make_boot_folder,
    make_pi_image,
    read_from_image,
)
from tests.conftest import require_tool
from tests.test_cli import kiosk
from tests.test_config import GOOD

KEY = "ed25519:A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="
CSV = (
    "device_id,unit_name,unit_kind,province_code,commune_code,district,channels,source_url,"
    "public_keys,size,rotation,wifi_ssid,wifi_password\n"
    f'08-02263-01,UBND xã Tân Trào,xa,08,02263,Sơn Dương,"tinh-08, xa-02263",'
    f"https://source.example.vn/bangtin,{KEY},1080x1920,90,UBND-TanTrao,mat-khau-wifi-42\n"
    f"08-09100-01,UBND phường Minh Xuân,phuong,08,09100,,tinh-08;px-09100,"
    f"https://source.example.vn/bangtin,{KEY},,,,\n"
)


@pytest.fixture
def image(tmp_path):
    return make_pi_image(tmp_path / "raspios.img")


def test_provision_an_image_from_a_kiosk_toml(tmp_path, image):
    files = installer_files(tmp_path)
    done = kiosk(
        "provision",
        "--boot",
        str(image),
        "--config",
        str(files["config"]),
        "--token-file",
        str(files["token"]),
        "--wifi",
        str(files["wifi"]),
    )
    assert done.returncode == 0, done.stderr
    assert "08-02263-01" in done.stdout and TOKEN not in done.stdout + done.stderr
    assert read_from_image(image, "kiosk.toml") == files["config"].read_bytes()
    assert read_from_image(image, "kiosk-token").decode().strip() == TOKEN
    wifi = tomllib.loads(read_from_image(image, "kiosk-wifi.toml").decode())
    assert wifi["ssid"] == "UBND-TanTrao" and wifi["password"] == "mat-khau-wifi-42"
    cmdline = read_from_image(image, "cmdline.txt").decode()
    assert cmdline.count("\n") == 1
    assert cmdline.split()[: len(STOCK_CMDLINE.split())] == STOCK_CMDLINE.split()
    for param in (
        "consoleblank=0",
        "vc4.force_hotplug=1",
        "video=HDMI-A-1:1920x1080@60D",
        "cfg80211.ieee80211_regdom=VN",
    ):
        assert param in cmdline.split()
    assert read_from_image(image, "config.txt").decode() == STOCK_CONFIG  # it had KMS on

    # Provisioning again (a second try at the same board) writes the same files.
    before = read_from_image(image, "cmdline.txt")
    again = kiosk("provision", "--boot", str(image), "--config", str(files["config"]))
    assert again.returncode == 0, again.stderr
    assert read_from_image(image, "cmdline.txt") == before
    assert "cmdline.txt" not in again.stdout


def test_provision_an_image_from_a_csv_row(tmp_path, image):
    devices = tmp_path / "devices.csv"
    devices.write_text(CSV, "utf-8")
    token = installer_files(tmp_path)["token"]
    done = kiosk(
        "provision",
        "--boot",
        str(image),
        "--csv",
        str(devices),
        "--device",
        "08-02263-01",
        "--token-file",
        str(token),
    )
    assert done.returncode == 0, done.stderr
    written = tmp_path / "back.toml"
    written.write_bytes(read_from_image(image, "kiosk.toml"))
    cfg = load_config(written)
    assert cfg.device.id == "08-02263-01"
    assert cfg.device.unit_name == "UBND xã Tân Trào" and cfg.device.district == "Sơn Dương"
    assert cfg.source.channels == ("tinh-08", "xa-02263")
    assert cfg.source.public_keys == (KEY,)
    assert str(cfg.source.token_file) == "/etc/kiosk/token"
    assert cfg.display.size == (1080, 1920) and cfg.display.rotation == 90
    assert "video=HDMI-A-1:1080x1920@60D" in read_from_image(image, "cmdline.txt").decode()
    assert b"mat-khau-wifi-42" in read_from_image(image, "kiosk-wifi.toml")
    assert read_from_image(image, "kiosk-token").decode().strip() == TOKEN

    other = kiosk(
        "provision", "--boot", str(image), "--csv", str(devices), "--device", "08-09100-01"
    )
    assert other.returncode == 0, other.stderr
    written.write_bytes(read_from_image(image, "kiosk.toml"))
    cfg = load_config(written)
    assert cfg.device.unit_kind == "phuong" and cfg.source.channels == ("tinh-08", "px-09100")
    assert cfg.source.token_file is None and cfg.display.size is None


@pytest.mark.parametrize(
    "args, config, named",
    [
        ("config", GOOD.replace('unit_kind = "xa"', 'unit_kind = "xã"'), "unit_kind"),
        ("config", GOOD.replace('province_code = "08"', 'province_code = "8"'), "province_code"),
        ("config", GOOD.replace("[display]", "[display]\nrotaton = 90"), "rotaton"),
        ("token", GOOD.replace('token_file = "/etc/kiosk/token"\n', ""), "token_file"),
        ("csv", "", "unit_kind"),
        ("csv-missing", "", "no row with device_id"),
        ("wifi", GOOD, "password"),
    ],
)
def test_a_bad_input_is_refused_with_exit_2_and_the_image_is_untouched(
    tmp_path, image, args, config, named
):
    files = installer_files(tmp_path, config or GOOD)
    before = digest(image)
    if args.startswith("csv"):
        devices = tmp_path / "devices.csv"
        devices.write_text(CSV.replace(",xa,08,02263", ",xã,08,02263"), "utf-8")
        device = "08-02263-01" if args == "csv" else "08-99999-01"
        argv = ["--csv", str(devices), "--device", device]
    else:
        argv = ["--config", str(files["config"]), "--token-file", str(files["token"])]
    if args == "wifi":
        files["wifi"].write_text('ssid = "x"\npassword = "short"\n')
        argv += ["--wifi", str(files["wifi"])]
    done = kiosk("provision", "--boot", str(image), *argv)
    assert done.returncode == 2, done.stdout + done.stderr
    assert named in done.stderr
    assert "Traceback" not in done.stderr and TOKEN not in done.stderr
    assert digest(image) == before
    assert image_names(image) == {"cmdline.txt", "config.txt"}


def test_targets_that_are_not_a_boot_partition_are_refused(tmp_path):
    require_tool("mdir", "mtools")  # a .img.gz is looked into as an image first
    files = installer_files(tmp_path)
    packed = tmp_path / "raspios.img.gz"
    packed.write_bytes(gzip.compress(b"\0" * 4096))
    empty = tmp_path / "empty"
    empty.mkdir()
    for target, named in (
        (packed, "decompress"),
        (empty, "config.txt"),
        (tmp_path / "nowhere", "no such"),
    ):
        done = kiosk("provision", "--boot", str(target), "--config", str(files["config"]))
        assert done.returncode == 2 and named in done.stderr, done.stderr


def test_provision_a_mounted_folder_and_clear_a_rejected_file(tmp_path):
    boot = make_boot_folder(tmp_path / "bootfs")
    (boot / "kiosk.toml.rejected").write_text("an old mistake")
    files = installer_files(tmp_path)
    done = kiosk(
        "provision",
        "--boot",
        str(boot),
        "--config",
        str(files["config"]),
        "--token-file",
        str(files["token"]),
    )
    assert done.returncode == 0, done.stderr
    assert (boot / "kiosk.toml").read_bytes() == files["config"].read_bytes()
    assert (boot / "kiosk-token").read_text().strip() == TOKEN
    assert not (boot / "kiosk.toml.rejected").exists()
    assert not list(boot.glob(".*.tmp"))
    assert "consoleblank=0" in (boot / "cmdline.txt").read_text()
