"""The systemd units and shell scripts, checked by the tools a distribution uses:
systemd-analyze verify and security, and shellcheck."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import ROOT, require_tool

UNITS = sorted((ROOT / "systemd").iterdir())
INSTALLED_KIOSK = "/opt/kiosk/current/bin/kiosk"
UPDATER_KIOSK = "/opt/kiosk/committed/bin/kiosk"  # the updater runs the committed release


def units_here(tmp_path: Path) -> list[Path]:
    """The units with ExecStart pointing at this checkout's kiosk (verify checks it exists)."""
    here = str(Path(sys.executable).parent / "kiosk")
    copies = []
    for unit in UNITS:
        copy = tmp_path / unit.name
        text = unit.read_text().replace(INSTALLED_KIOSK, here).replace(UPDATER_KIOSK, here)
        copy.write_text(text)
        copies.append(copy)
    return copies


def test_every_unit_passes_systemd_analyze_verify(tmp_path):
    tool = require_tool("systemd-analyze", "systemd")
    assert {u.name for u in UNITS} >= {"kiosk.service", "kiosk-firstboot.service"}
    for unit in UNITS:
        text = unit.read_text()
        assert (
            INSTALLED_KIOSK in text or UPDATER_KIOSK in text or unit.suffix in (".path", ".timer")
        )
        if unit.name.startswith(("kiosk-update", "kiosk-os-update")):  # never the code on trial
            assert INSTALLED_KIOSK not in text
    done = subprocess.run(
        [tool, "verify", *map(str, units_here(tmp_path))],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr


def test_kiosk_service_is_rated_at_most_2_and_still_reaches_its_devices(tmp_path):
    tool = require_tool("systemd-analyze", "systemd")
    done = subprocess.run(
        [tool, "security", "--offline=yes", "--no-pager", str(ROOT / "systemd/kiosk.service")],
        capture_output=True,
        text=True,
    )
    found = re.search(r"Overall exposure level for kiosk\.service: (\d+\.\d+)", done.stdout)
    assert found, done.stdout + done.stderr
    print(f"kiosk.service exposure: {found.group(1)}")
    assert float(found.group(1)) <= 2.0
    unit = (ROOT / "systemd/kiosk.service").read_text()
    allowed = dict(re.findall(r"^DeviceAllow=(\S+) (\w+)$", unit, re.M))
    assert allowed["char-drm"] == "rw"  # /dev/dri: the screen
    assert "r" in allowed["char-input"]  # /dev/input: the service keyboard
    assert allowed["char-gpiochip"] == "rw"  # GPIO through lgpio
    assert not re.search(r"^PrivateDevices=yes", unit, re.M)  # it would hide them all
    groups = re.search(r"^SupplementaryGroups=(.*)$", unit, re.M).group(1).split()
    assert set(groups) >= {"video", "render", "input", "gpio", "spi"}
    assert re.search(r"^User=kiosk$", unit, re.M) and re.search(r"^Type=notify$", unit, re.M)
    assert re.search(r"^WatchdogSec=\d+", unit, re.M)
    assert re.search(r"^Restart=always$", unit, re.M)


def shell_scripts() -> list[Path]:
    candidates = [*ROOT.glob("provisioning/**/*"), *ROOT.glob("scripts/*"), ROOT / ".ci/run"]
    return sorted(
        p
        for p in candidates
        if p.is_file() and p.read_bytes()[:64].startswith((b"#!/usr/bin/env bash", b"#!/bin/"))
    )


def test_every_shell_script_passes_shellcheck():
    tool = require_tool("shellcheck", "shellcheck")
    scripts = shell_scripts()
    assert ROOT / "provisioning/install.sh" in scripts
    done = subprocess.run(
        [tool, "--severity=style", "--external-sources", *map(str, scripts)],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout


@pytest.mark.parametrize("script", shell_scripts(), ids=lambda p: str(p.relative_to(ROOT)))
def test_scripts_are_executable(script):
    assert script.stat().st_mode & 0o111, f"chmod +x {script}"


PROVINCE = ROOT / "provisioning" / "province"
PROVINCE_UNIT = PROVINCE / "kiosk-province.service"
HOUSEKEEPING_UNIT = PROVINCE / "kiosk-province-housekeeping.service"


@pytest.mark.parametrize("unit", [PROVINCE_UNIT, HOUSEKEEPING_UNIT], ids=lambda p: p.name)
def test_the_province_servers_units_pass_verify_and_are_rated_at_most_2(tmp_path, unit):
    tool = require_tool("systemd-analyze", "systemd")
    here = str(Path(sys.executable).parent / "kiosk")
    for name in (unit.name, "kiosk-province-housekeeping.timer"):
        text = (PROVINCE / name).read_text().replace("/opt/kiosk-province/venv/bin/kiosk", here)
        (tmp_path / name).write_text(text)
    checked = [str(tmp_path / unit.name)]
    if unit == HOUSEKEEPING_UNIT:  # the timer that starts it, verified beside it
        checked.append(str(tmp_path / "kiosk-province-housekeeping.timer"))
    done = subprocess.run([tool, "verify", *checked], capture_output=True, text=True,
                          cwd=tmp_path)  # fmt: skip
    assert done.returncode == 0 and not done.stderr.strip(), done.stderr
    rated = subprocess.run(
        [tool, "security", "--offline=yes", "--no-pager", str(unit)],
        capture_output=True,
        text=True,
    )
    found = re.search(
        rf"Overall exposure level for {re.escape(unit.name)}: (\d+\.\d+)", rated.stdout
    )
    assert found, rated.stdout + rated.stderr
    print(f"{unit.name} exposure: {found.group(1)}")
    assert float(found.group(1)) <= 2.0
    text = unit.read_text()
    assert "User=kiosk-province" in text and "StateDirectory=kiosk-province" in text


@pytest.mark.parametrize(
    ("name", "most"), [("kiosk-update.service", 2.5), ("kiosk-update-recover.service", 2.0)]
)
def test_the_updaters_units_run_the_committed_release_and_are_hardened(name, most):
    """Root services (they write /opt/kiosk, which the kiosk's user may not): each holds
    only what it needs; 2.5 for the updater, which reads the kiosk's cache for a self-check
    (CAP_DAC_READ_SEARCH) and restarts kiosk.service."""
    tool = require_tool("systemd-analyze", "systemd")
    rated = subprocess.run(
        [tool, "security", "--offline=yes", "--no-pager", str(ROOT / "systemd" / name)],
        capture_output=True,
        text=True,
    )
    found = re.search(rf"Overall exposure level for {re.escape(name)}: (\d+\.\d+)", rated.stdout)
    assert found, rated.stdout + rated.stderr
    print(f"{name} exposure: {found.group(1)}")
    assert float(found.group(1)) <= most
    unit = (ROOT / "systemd" / name).read_text()
    assert re.search(r"^ReadWritePaths=/opt/kiosk$", unit, re.M)
    assert re.search(r"^ProtectSystem=strict$", unit, re.M)
