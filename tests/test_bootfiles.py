"""The boot partition's files as text: kernel command line, config.txt, token, Wi-Fi."""

from __future__ import annotations

import tomllib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.core.bootfiles import (
    BootFileError,
    Wifi,
    edit_cmdline,
    edit_config_txt,
    kernel_params,
    nm_keyfile,
    parse_token,
    parse_wifi,
    render_wifi,
    toml_string,
)

STOCK = "console=serial0,115200 console=tty1 root=PARTUUID=4e639091-02 rootfstype=ext4 "
STOCK += "fsck.repair=yes rootwait quiet splash plymouth.ignore-serial-consoles\n"


def test_cmdline_gets_the_boards_parameters_and_keeps_the_rest():
    new = edit_cmdline(STOCK, kernel_params((1080, 1920), "VN"))
    assert new.count("\n") == 1 and new.endswith("\n")
    tokens = new.split()
    assert tokens[: len(STOCK.split())] == STOCK.split()  # order and text of the stock line
    for wanted in (
        "consoleblank=0",
        "vc4.force_hotplug=1",
        "video=HDMI-A-1:1080x1920@60D",
        "cfg80211.ieee80211_regdom=VN",
    ):
        assert tokens.count(wanted) == 1


def test_cmdline_edit_is_idempotent_and_returns_the_same_text():
    once = edit_cmdline(STOCK, kernel_params(None, None))
    assert edit_cmdline(once, kernel_params(None, None)) is once


def test_cmdline_replaces_a_conflicting_value_once():
    text = "root=x consoleblank=600 consoleblank=300 video=HDMI-A-1:1280x720@60 quiet\n"
    new = edit_cmdline(text, kernel_params((1920, 1080), None))
    assert "consoleblank=0" in new.split() and "consoleblank=600" not in new
    assert "consoleblank=300" not in new
    assert "video=HDMI-A-1:1920x1080@60D" in new.split()
    assert "video=HDMI-A-1:1280x720@60" not in new.split()


def test_a_hand_chosen_video_mode_stays_when_the_size_is_auto():
    text = "root=x video=HDMI-A-1:1280x720@60\n"
    new = edit_cmdline(text, kernel_params(None, None), keep_video=True)
    assert "video=HDMI-A-1:1280x720@60" in new.split()
    assert "video=HDMI-A-1:1920x1080@60D" not in new


def test_a_second_connectors_mode_is_not_touched():
    new = edit_cmdline("root=x video=HDMI-A-2:800x480@60\n", kernel_params((1920, 1080), None))
    assert "video=HDMI-A-2:800x480@60" in new.split()


def test_a_cmdline_of_two_lines_is_refused():
    with pytest.raises(BootFileError, match="2 lines"):
        edit_cmdline("root=x\nquiet\n", kernel_params(None, None))


def test_config_txt_gets_the_kms_driver_only_when_it_lacks_it():
    stock = "# comment\ndtoverlay=vc4-kms-v3d\nmax_framebuffers=2\n[cm4]\notg_mode=1\n[all]\n"
    assert edit_config_txt(stock) is stock
    lost = "#dtoverlay=vc4-kms-v3d\n[cm4]\notg_mode=1"
    new = edit_config_txt(lost)
    assert new.startswith(lost + "\n")
    assert new.rstrip().endswith("[all]\ndtoverlay=vc4-kms-v3d")
    assert edit_config_txt(new) is new


def test_token_must_be_one_printable_line():
    assert parse_token(b"abc.DEF-123_x\n") == "abc.DEF-123_x"
    for bad in (b"", b"\n", b"two words", b"a\nb", b"\xff\xfe", b"x" * 5000):
        with pytest.raises(BootFileError, match="kiosk-token"):
            parse_token(bad)


def test_wifi_file_round_trips_and_bad_fields_are_named_without_the_password():
    wifi = Wifi("UBND Tân Trào", 'p@ss"word\\1', "VN", True)
    assert parse_wifi(render_wifi(wifi)) == wifi
    with pytest.raises(BootFileError) as err:
        parse_wifi(b'ssid = ""\npassword = "short1"\ncountry = "vn"\n')
    text = str(err.value)
    assert "ssid" in text and "password" in text and "country" in text
    assert "short1" not in text
    assert "p@ss" not in repr(wifi)


def test_networkmanager_keyfile_escapes_the_ssid_and_password():
    doc = nm_keyfile(Wifi(" lead\\ing", "pass\\word", "VN", False)).decode()
    assert "ssid=\\slead\\\\ing\n" in doc
    assert "psk=pass\\\\word\n" in doc
    assert "key-mgmt=wpa-psk" in doc
    assert "[wifi-security]" not in nm_keyfile(Wifi("open", "", "VN", False)).decode()


@given(st.text())
def test_toml_string_reads_back_as_the_same_text(text):
    assert tomllib.loads(f"x = {toml_string(text)}")["x"] == text
