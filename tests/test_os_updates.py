"""Operating-system updates (SPEC 8.3): the maintenance window and the reboot rules, pure and
with a pinned clock; then `kiosk os-update`'s job with the real apt-get and dpkg against a
package root of its own (a file: repository built with dpkg-deb: no network), so what it
counts, installs and reports is what apt really did."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest

from kiosk.board.osupdate import Apt, OsUpdater
from kiosk.board.softwarewatch import SoftwareWatch
from kiosk.core.config import load_config
from kiosk.core.osupdates import in_maintenance_window, may_reboot, pending_packages
from kiosk.core.timeutil import HourWindow
from tests.conftest import missing
from tests.releases import board_toml

VIETNAM = timezone(timedelta(hours=7))
DAYTIME = (HourWindow(6 * 3600, 22 * 3600),)  # a screen on 06:00-22:00
AROUND_THE_CLOCK = (HourWindow(0, 24 * 3600),)


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 12, 5, hour, minute, tzinfo=VIETNAM)


@pytest.mark.parametrize(
    ("on_hours", "hour", "minute", "inside"),
    [
        (DAYTIME, 5, 59, True), (DAYTIME, 6, 0, False), (DAYTIME, 12, 0, False),
        (DAYTIME, 21, 59, False), (DAYTIME, 22, 0, True), (DAYTIME, 2, 0, True),
        # a screen that never goes off takes 03:00-05:00, the street's quietest hours
        (AROUND_THE_CLOCK, 2, 59, False), (AROUND_THE_CLOCK, 3, 0, True),
        (AROUND_THE_CLOCK, 4, 59, True), (AROUND_THE_CLOCK, 5, 0, False),
        (AROUND_THE_CLOCK, 12, 0, False),
    ],
)  # fmt: skip
def test_the_maintenance_window_is_the_screens_off_hours(on_hours, hour, minute, inside):
    assert in_maintenance_window(on_hours, at(hour, minute)) is inside


def test_a_reboot_waits_for_the_window_and_never_comes_during_an_emergency():
    assert may_reboot(DAYTIME, at(23), False) == (True, "in the maintenance window")
    assert may_reboot(DAYTIME, at(23), True) == (False, "an emergency is on screen")
    assert may_reboot(DAYTIME, at(9), False) == (False, "outside the maintenance window")


def test_pending_packages_are_the_simulations_inst_lines():
    origin = "Debian-Security:12/stable-security [arm64]"
    sim = ("NOTE: This is only a simulation!\n"
           f"Inst libssl3 [3.0.15-1~deb12u1] (3.0.17-1~deb12u2 {origin})\n"
           f"Inst openssl [3.0.15-1~deb12u1] (3.0.17-1~deb12u2 {origin})\n"
           f"Conf libssl3 (3.0.17-1~deb12u2 {origin})\n")  # fmt: skip
    assert pending_packages(sim) == ["libssl3", "openssl"]
    assert pending_packages("0 upgraded, 0 newly installed\n") == []


class PackageRoot:
    """A dpkg root with kiosk-demo 1.0 installed and a file: repository offering 2.0."""

    def __init__(self, root: Path) -> None:
        for tool in ("apt-get", "dpkg-deb", "dpkg"):
            if shutil.which(tool) is None:
                missing(f"{tool} is missing: install apt and dpkg (Debian)")
        self.root = root
        self.target = root / "target"
        admin = self.target / "var" / "lib" / "dpkg"
        for d in (admin / "info", admin / "updates", root / "lists" / "partial",
                  root / "cache" / "archives" / "partial", root / "etc" / "sources.list.d",
                  root / "etc" / "preferences.d", root / "repo"):  # fmt: skip
            d.mkdir(parents=True)
        (admin / "status").write_text(
            "Package: kiosk-demo\nStatus: install ok installed\nVersion: 1.0\n"
            "Architecture: all\nMaintainer: Test <t@example.invalid>\nDescription: demo\n\n"
        )
        self.repo(available=True)
        self.options = [
            f"Dir::Etc::SourceList={root / 'etc' / 'sources.list'}",
            f"Dir::Etc::SourceParts={root / 'etc' / 'sources.list.d'}",
            f"Dir::Etc::Preferences={root / 'etc' / 'preferences'}",
            f"Dir::Etc::PreferencesParts={root / 'etc' / 'preferences.d'}",
            f"Dir::State::Lists={root / 'lists'}",
            f"Dir::State::status={admin / 'status'}",
            f"Dir::Cache={root / 'cache'}",
            "Debug::NoLocking=1",
            "APT::Sandbox::User=root",
            f"DPkg::Options::=--root={self.target}",
            f"DPkg::Options::=--admindir={admin}",
            "DPkg::Options::=--force-not-root",
            "DPkg::Options::=--force-script-chrootless",
        ]

    def repo(self, available: bool) -> None:
        """The repository with kiosk-demo 2.0, or one that has gone (a broken mirror)."""
        repo = self.root / "repo"
        where = repo if available else self.root / "gone"
        (self.root / "etc" / "sources.list").write_text(f"deb [trusted=yes] file:{where} ./\n")
        if (repo / "Packages").exists():
            return
        pkg = self.root / "pkg"
        (pkg / "DEBIAN").mkdir(parents=True)
        (pkg / "usr" / "share" / "kiosk-demo").mkdir(parents=True)
        (pkg / "usr" / "share" / "kiosk-demo" / "version").write_text("2.0\n")
        control = ("Package: kiosk-demo\nVersion: 2.0\nArchitecture: all\n"
                   "Maintainer: Test <t@example.invalid>\nDescription: demo\n")  # fmt: skip
        (pkg / "DEBIAN" / "control").write_text(control)
        deb = repo / "kiosk-demo_2.0_all.deb"
        subprocess.run(["dpkg-deb", "--build", "-Zgzip", str(pkg), str(deb)], check=True,
                       capture_output=True)  # fmt: skip
        data = deb.read_bytes()
        (repo / "Packages").write_text(
            control + f"Filename: ./{deb.name}\nSize: {len(data)}\n"
            f"SHA256: {hashlib.sha256(data).hexdigest()}\n\n"
        )

    def installed_version(self) -> str:
        path = self.target / "usr" / "share" / "kiosk-demo" / "version"
        return path.read_text().strip() if path.exists() else "1.0"


@pytest.fixture
def job(tmp_path):
    packages = PackageRoot(tmp_path / "apt")
    board = tmp_path / "board"
    board.mkdir()
    config = load_config(board_toml(board / "kiosk.toml", "http://127.0.0.1:9", "ed25519:" +
                                    "A" * 43 + "=", []))  # fmt: skip
    config.update.dir.mkdir(parents=True)
    clock = {"now": at(12).astimezone(UTC)}
    reboots: list[datetime] = []
    health = {"doc": {"content": {"emergency_active": False}}}
    flag = tmp_path / "reboot-required"
    # the install step as a test can run it: apt-get itself into the private root (on the
    # board: unattended-upgrade, which takes only the security origins)
    apt = Apt(options=packages.options, upgrade=("apt-get", "-y", "-q", "dist-upgrade"))
    updater = OsUpdater(config, apt, lambda: clock["now"],
                        reboot=lambda: reboots.append(clock["now"]),
                        health=lambda: health["doc"], reboot_flag=flag)  # fmt: skip
    return type("Job", (), dict(packages=packages, updater=updater, clock=clock, flag=flag,
                                reboots=reboots, health=health, config=config))  # fmt: skip


def report(job) -> dict:
    return SoftwareWatch(job.config.update.dir, reboot_flag=job.flag).health("0.1.0")


def test_outside_the_window_it_only_counts_then_installs_in_the_window(job):
    state = job.updater.run_once()  # 12:00: the screen is on
    assert state.pending == 0 and state.upgraded_at is None and state.error is None
    assert not any((job.packages.root / "lists").glob("*Packages"))  # nothing downloaded
    assert job.packages.installed_version() == "1.0"
    written = job.updater.state_file.stat().st_mtime_ns
    job.updater.run_once()  # the same hour's look again: nothing changed, nothing written
    assert job.updater.state_file.stat().st_mtime_ns == written

    job.clock["now"] = at(3, 30).astimezone(UTC)  # the night window of a 24-hour screen
    state = job.updater.run_once()
    assert job.packages.installed_version() == "2.0"  # apt really installed it
    assert state.pending == 0 and state.upgraded_at == "2026-12-04T20:30:00+00:00"
    assert report(job)["os_updates_pending"] == 0 and report(job)["reboot_required"] is False
    assert job.reboots == []


class CountingApt(Apt):
    """The real apt, with the list fetches counted (each costs the SIM)."""

    fetches = 0

    def refresh_lists(self) -> None:
        self.fetches += 1
        super().refresh_lists()


def test_the_lists_are_fetched_once_a_night_whatever_the_hours_looked(job):
    apt = CountingApt(options=job.packages.options, upgrade=job.updater.apt.upgrade)
    job.updater.apt = apt
    for hour, minute in ((3, 5), (3, 55), (4, 45)):  # the timer's three looks of one night
        job.clock["now"] = at(hour, minute).astimezone(UTC)
        job.updater.run_once()
    assert apt.fetches == 1 and job.packages.installed_version() == "2.0"
    job.clock["now"] = at(3, 5).astimezone(UTC) + timedelta(days=1)  # the next night
    job.updater.run_once()
    assert apt.fetches == 2
    job.clock["now"] -= timedelta(days=30)  # a clock set back: a fetch, not a month's wait
    job.updater.run_once()
    assert apt.fetches == 3


def test_pending_updates_are_reported_until_the_window(job):
    subprocess.run(["apt-get", "-q", *[a for o in job.packages.options for a in ("-o", o)],
                    "update"], check=True, capture_output=True)  # fmt: skip
    state = job.updater.run_once()  # 12:00, with lists an earlier night fetched
    assert state.pending == 1 and job.packages.installed_version() == "1.0"
    assert report(job)["os_updates_pending"] == 1


def test_a_reboot_waits_for_the_window_and_for_the_emergency_to_end(job):
    job.flag.touch()  # a package (a libc, say) asked for a reboot
    job.updater.run_once()  # 12:00
    assert job.reboots == [] and report(job)["reboot_required"] is True
    job.clock["now"] = at(3, 30).astimezone(UTC)
    job.health["doc"] = {"content": {"emergency_active": True}}
    job.updater.run_once()
    assert job.reboots == []  # a flood warning is on screen: no reboot
    job.health["doc"] = {"content": {"emergency_active": False}}
    job.clock["now"] = at(4, 30).astimezone(UTC)
    job.updater.run_once()
    assert job.reboots == [at(4, 30).astimezone(UTC)]


def test_a_broken_mirror_is_reported_and_the_next_hour_tries_again(job):
    job.packages.repo(available=False)
    job.clock["now"] = at(3, 30).astimezone(UTC)
    state = job.updater.run_once()
    assert state.error and "apt-get exited with 100" in state.error
    on_disk = json.loads(job.updater.state_file.read_text())
    assert on_disk["error"] == state.error and on_disk["pending"] is None
    job.packages.repo(available=True)
    job.clock["now"] = at(4, 30).astimezone(UTC)
    state = job.updater.run_once()
    assert state.error is None and job.packages.installed_version() == "2.0"
