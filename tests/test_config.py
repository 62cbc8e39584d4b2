"""kiosk.toml (SPEC 3.1): a good file loads; every bad key is named with file, key and problem."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.core.config import ConfigError, load_config

GOOD = """\
[device]
id = "08-02263-01"
name = "Bảng tin UBND xã Tân Trào"
unit_name = "UBND xã Tân Trào"
unit_kind = "xa"
province_code = "08"
commune_code = "02263"
district = "Sơn Dương"
timezone = "Asia/Ho_Chi_Minh"

[source]
url = "https://source.example.vn/bangtin"
channels = ["tinh-08", "xa-02263"]
public_keys = ["ed25519:A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="]
token_file = "/etc/kiosk/token"
poll_seconds = 300
heartbeat_seconds = 60
heartbeat_url = ""

[display]
size = "auto"
rotation = 0
on_hours = ["05:30-22:30"]
power = "blank"

[health]
listen = "0.0.0.0:8080"

[storage]
dir = "/var/lib/kiosk"

[gpio]
status_led = 17
fan = 18
screen_relay = 27
service_button = 22
door_switch = 23
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "kiosk.toml"
    path.write_text(text, "utf-8")
    return path


def test_the_spec_example_loads(tmp_path):
    cfg = load_config(write(tmp_path, GOOD))
    assert cfg.device.id == "08-02263-01"
    assert cfg.device.unit_name == "UBND xã Tân Trào"
    assert cfg.source.channels == ("tinh-08", "xa-02263")
    assert cfg.source.token_file == Path("/etc/kiosk/token")
    assert cfg.display.size is None and str(cfg.display.on_hours[0]) == "05:30-22:30"
    assert cfg.listen == ("0.0.0.0", 8080)
    assert cfg.gpio == {
        "status_led": 17,
        "fan": 18,
        "screen_relay": 27,
        "service_button": 22,
        "door_switch": 23,
    }


def test_optional_tables_have_defaults(tmp_path):
    minimal = GOOD.split("[display]")[0].replace('token_file = "/etc/kiosk/token"\n', "")
    cfg = load_config(write(tmp_path, minimal))
    assert cfg.display.rotation == 0 and cfg.display.power == "blank"
    assert cfg.storage_dir == Path("/var/lib/kiosk") and cfg.gpio == {}
    assert cfg.source.token_file is None


def replace(old: str, new: str) -> str:
    assert old in GOOD, old
    return GOOD.replace(old, new)


BAD = [
    (replace('id = "08-02263-01"', 'id = "AB"'), "[device] id", "is not a device id"),
    (replace('unit_kind = "xa"', 'unit_kind = "thon"'), "[device] unit_kind", "must be one of"),
    (replace('province_code = "08"', 'province_code = "8"'), "[device] province_code", "2 digits"),
    (replace('commune_code = "02263"\n', ""), "[device] commune_code", "is required"),
    (
        replace('timezone = "Asia/Ho_Chi_Minh"', 'timezone = "Asia/Hanoi"'),
        "[device] timezone",
        "not a known time zone",
    ),
    (replace('unit_name = "UBND xã Tân Trào"\n', ""), "[device] unit_name", "is required"),
    (
        replace('url = "https://source.example.vn/bangtin"', 'url = "ftp://x"'),
        "[source] url",
        "http:// or https://",
    ),
    (
        replace('channels = ["tinh-08", "xa-02263"]', 'channels = ["Tinh 08"]'),
        "[source] channels",
        "entry 1",
    ),
    (
        replace('channels = ["tinh-08", "xa-02263"]', "channels = []"),
        "[source] channels",
        "must not be empty",
    ),
    (
        replace('channels = ["tinh-08", "xa-02263"]', 'channels = ["a1", "a1"]'),
        "[source] channels",
        "same entry twice",
    ),
    (
        replace("ed25519:A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=", "ed25519:AAAA"),
        "[source] public_keys",
        "32 bytes",
    ),
    (
        replace("ed25519:A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg=", "rsa:AAAA"),
        "[source] public_keys",
        "ed25519:",
    ),
    (replace("poll_seconds = 300", "poll_seconds = 1"), "[source] poll_seconds", "from 5 to 86400"),
    (
        replace("poll_seconds = 300", 'poll_seconds = "300"'),
        "[source] poll_seconds",
        "whole number",
    ),
    (
        replace("heartbeat_seconds = 60", "heartbeat_seconds = 7200"),
        "[source] heartbeat_seconds",
        "from 5 to 3600",
    ),
    (
        replace('token_file = "/etc/kiosk/token"', 'token_file = "token"'),
        "[source] token_file",
        "absolute path",
    ),
    (replace('heartbeat_url = ""', 'heartbeat_url = "x"'), "[source] heartbeat_url", "URL"),
    (replace('size = "auto"', 'size = "1920*1080"'), "[display] size", "WIDTHxHEIGHT"),
    (replace("rotation = 0", "rotation = 45"), "[display] rotation", "0, 90, 180 or 270"),
    (
        replace('on_hours = ["05:30-22:30"]', 'on_hours = ["5:30-22:30"]'),
        "[display] on_hours",
        "HH:MM-HH:MM",
    ),
    (replace('power = "blank"', 'power = "off"'), "[display] power", "blank, cec, relay"),
    (replace('listen = "0.0.0.0:8080"', 'listen = "8080"'), "[health] listen", "HOST:PORT"),
    (replace('dir = "/var/lib/kiosk"', 'dir = "kiosk"'), "[storage] dir", "absolute path"),
    (replace("fan = 18", "fan = 17"), "[gpio] fan", "already used"),
    (replace("fan = 18", "fan = 40"), "[gpio] fan", "from 0 to 27"),
    (
        replace("poll_seconds = 300", "poll_second = 300"),
        "[source] poll_second",
        "unknown key (did you mean poll_seconds?)",
    ),
    (GOOD + "\n[displai]\nx = 1\n", "[displai]", "unknown table (did you mean [display]?)"),
    ("gpio = 3\n" + GOOD.split("[gpio]")[0], "[gpio]", "must be a table"),
]


@pytest.mark.parametrize(("text", "key", "words"), BAD, ids=[b[1] + " " + b[2] for b in BAD])
def test_bad_files_name_file_key_and_problem(tmp_path, text, key, words):
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    assert message.startswith(f"{path}: {key}"), message
    assert words in message


def test_every_problem_is_reported_at_once(tmp_path):
    text = replace("rotation = 0", "rotation = 45").replace('power = "blank"', 'power = "x"')
    with pytest.raises(ConfigError) as err:
        load_config(write(tmp_path, text))
    assert len(err.value.problems) == 2


@pytest.mark.parametrize(
    ("content", "words"),
    [(b"[device\nid=", "invalid TOML"), (b"\xff\xfe", "not UTF-8"), (None, "cannot be read")],
)
def test_unreadable_files(tmp_path, content, words):
    path = tmp_path / "kiosk.toml"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ConfigError, match=words):
        load_config(path)


def run_kiosk(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "kiosk", *args], capture_output=True, text=True, timeout=60
    )


def test_check_config_command(tmp_path):
    good = run_kiosk("check-config", str(write(tmp_path, GOOD)))
    assert good.returncode == 0, good.stderr
    assert "08-02263-01" in good.stdout
    bad = run_kiosk("check-config", str(write(tmp_path, replace("rotation = 0", "rotation = 1"))))
    assert bad.returncode == 2
    assert "[display] rotation: must be 0, 90, 180 or 270" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_the_embedded_default_is_valid():
    import tomllib

    from kiosk.core.config import parse_config
    from kiosk.paths import DEFAULT_CONFIG

    parse_config(tomllib.loads(DEFAULT_CONFIG.read_text("utf-8")), str(DEFAULT_CONFIG))
