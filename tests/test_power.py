"""The panel's power switch: cec-ctl commands, the relay pin, re-assertion."""

from __future__ import annotations

import os
import stat

import pytest
from gpiozero.pins.mock import MockFactory

from kiosk.board.power import REASSERT_S, CecSwitch, PowerKeeper, RelaySwitch
from kiosk.core.config import ConfigError, parse_config


class Clock:
    def __init__(self) -> None:
        self.t = 0.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def cec_ctl(tmp_path, monkeypatch):
    """A stand-in for cec-ctl on PATH (no HDMI-CEC bus here) that notes its arguments."""
    calls = tmp_path / "calls"
    tool = tmp_path / "bin" / "cec-ctl"
    tool.parent.mkdir()
    tool.write_text(f'#!/bin/sh\necho "$*" >> {calls}\n')
    tool.chmod(tool.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tool.parent}{os.pathsep}{os.environ['PATH']}")
    return calls


def test_cec_wakes_and_stands_by_the_screen_and_reasserts(cec_ctl):
    clock = Clock()
    keeper = PowerKeeper(CecSwitch(), monotonic=clock)
    keeper.apply(True)
    keeper.apply(True)  # unchanged: nothing sent
    keeper.apply(False)
    clock.t += REASSERT_S
    keeper.apply(False)  # re-asserted after a while
    assert cec_ctl.read_text().splitlines() == [
        "--playback",
        "--to 0 --image-view-on",
        "--to 0 --standby",
        "--to 0 --standby",
    ]


def test_cec_without_cec_ctl_does_nothing(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    PowerKeeper(CecSwitch()).apply(False)  # logged once, no crash


def test_the_relay_pin_follows_the_screen():
    factory = MockFactory()
    keeper = PowerKeeper(RelaySwitch(27, pin_factory=factory))
    keeper.apply(True)
    assert factory.pin(27).state
    keeper.apply(False)
    assert not factory.pin(27).state
    factory.close()


def test_relay_power_needs_a_relay_pin():
    doc = {
        "device": {
            "id": "08-02263-01",
            "unit_name": "UBND",
            "unit_kind": "xa",
            "province_code": "08",
            "commune_code": "02263",
        },
        "source": {
            "url": "https://s.example.vn",
            "channels": ["tinh-08"],
            "public_keys": ["ed25519:A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="],
        },
        "display": {"power": "relay"},
    }
    with pytest.raises(ConfigError) as caught:
        parse_config(doc)
    assert 'kiosk.toml: [display] power: is "relay", but [gpio] has no screen_relay pin' in str(
        caught.value
    )
    doc["gpio"] = {"screen_relay": 27}
    assert parse_config(doc).display.power == "relay"
