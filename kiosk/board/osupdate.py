"""`kiosk os-update`: Debian's security updates, in the board's maintenance window (SPEC 8.3).

kiosk-os-update.timer runs it every hour. Outside the window it only counts what is pending
(from the package lists it has: no download). In the window, once a day (LISTS_EVERY), it
refreshes the lists and lets unattended-upgrades install the security updates (the origins
are set by /etc/apt/apt.conf.d/52kiosk-unattended-upgrades), counts again, and reboots if a
package asked for it and no emergency is on screen. What it saw goes to
<[update] dir>/os-updates.json for /health, written only when it changed.

apt and the reboot are behind two small seams so that a test runs the real apt-get and dpkg
against a package root of its own (a file: repository, no network) and sees the reboot.
"""

from __future__ import annotations

import argparse
import logging
import os
import subprocess
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

from kiosk.board.boardconfig import resolve_config
from kiosk.board.softwarewatch import REBOOT_FLAG
from kiosk.board.switch import emergency_on_screen, read_health
from kiosk.core.config import Config
from kiosk.core.fsutil import atomic_write
from kiosk.core.osupdates import (
    OsUpdateState,
    in_maintenance_window,
    lists_due,
    may_reboot,
    moment,
    parse_os_state,
    pending_packages,
)
from kiosk.core.timeutil import format_rfc3339

log = logging.getLogger(__name__)
LISTS_DEADLINE_S = 15 * 60  # a slow SIM's apt-get update
UPGRADE_DEADLINE_S = 60 * 60  # unattended-upgrades installs a package at a time (MinimalSteps)
COUNT_DEADLINE_S = 5 * 60
OUTPUT_LIMIT = 4 * 1024 * 1024  # apt's simulation of a year behind is some hundred KB


class AptFailed(RuntimeError):
    pass


@dataclass
class Apt:
    """The apt commands the job runs; `options` are -o settings for every one (a test's own
    package root)."""

    options: Sequence[str] = ()
    upgrade: Sequence[str] = ("unattended-upgrade",)
    env: dict[str, str] = field(default_factory=dict)

    def _run(self, argv: Sequence[str], deadline_s: float) -> str:
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive", "LC_ALL": "C", **self.env}
        try:
            done = subprocess.run(list(argv), capture_output=True, text=True, env=env,
                                  timeout=deadline_s, errors="replace")  # fmt: skip
        except subprocess.TimeoutExpired:
            raise AptFailed(f"{argv[0]} took longer than {deadline_s:.0f} s") from None
        except OSError as exc:
            raise AptFailed(f"{argv[0]}: {exc.strerror}") from None
        if done.returncode != 0:
            last = (done.stderr.strip().splitlines() or ["(no message)"])[-1][:300]
            raise AptFailed(f"{argv[0]} exited with {done.returncode}: {last}")
        return done.stdout[:OUTPUT_LIMIT]

    def refresh_lists(self) -> None:
        self._run(["apt-get", "-q", *self._o(), "update"], LISTS_DEADLINE_S)

    def install_security_updates(self) -> None:
        self._run([*self.upgrade, *self._o()], UPGRADE_DEADLINE_S)

    def pending(self) -> int:
        out = self._run(["apt-get", "-s", "-q", *self._o(), "dist-upgrade"], COUNT_DEADLINE_S)
        return len(pending_packages(out))

    def _o(self) -> list[str]:
        return [a for o in self.options for a in ("-o", o)]


def systemd_reboot() -> None:
    subprocess.run(["systemctl", "reboot"], check=False, timeout=60)


@dataclass
class OsUpdater:
    config: Config
    apt: Apt
    clock: Callable[[], datetime]
    reboot: Callable[[], None] = systemd_reboot
    health: Callable[[], dict | None] | None = None
    reboot_flag: Path = REBOOT_FLAG

    @property
    def state_file(self) -> Path:
        return self.config.update.dir / "os-updates.json"

    def _read(self) -> OsUpdateState:
        try:
            return parse_os_state(self.state_file.read_bytes())
        except OSError:
            return OsUpdateState()

    def run_once(self) -> OsUpdateState:
        """One hour's look; returns what it wrote (or would have: unchanged is not rewritten)."""
        now = self.clock()
        local = now.astimezone(self.config.device.tz)
        on_hours = self.config.display.on_hours
        before = self._read()
        state = replace(before, error=None)
        try:
            if in_maintenance_window(on_hours, local) and lists_due(moment(before.lists_at), now):
                self.apt.refresh_lists()
                state = replace(state, lists_at=format_rfc3339(now))
                if self.apt.pending():
                    self.apt.install_security_updates()
                    state = replace(state, upgraded_at=format_rfc3339(now))
            state = replace(state, pending=self.apt.pending(), checked_at=format_rfc3339(now))
        except AptFailed as exc:
            log.error("os-update: %s", exc)
            state = replace(state, error=str(exc))
        if state != before:
            atomic_write(self.state_file, state.dump())
        self._maybe_reboot(on_hours, local)
        return state

    def _maybe_reboot(self, on_hours, local: datetime) -> None:
        if not self.reboot_flag.exists():
            return
        health = (self.health or (lambda: read_health(self.config)))()
        ok, why = may_reboot(on_hours, local, emergency_on_screen(health))
        if ok:
            log.warning("os-update: a package asked for a reboot; rebooting (%s)", why)
            self.reboot()
        else:
            log.info("os-update: a reboot is required; it waits (%s)", why)


def os_update_command(args: argparse.Namespace) -> int:
    """Exit 0 when the look went through, 1 when apt failed (its message printed)."""
    config = resolve_config(args.config)
    state = OsUpdater(config, Apt(), lambda: datetime.now(UTC)).run_once()
    pending = "unknown" if state.pending is None else state.pending
    print(f"os-update: {pending} packages pending; reboot required: {REBOOT_FLAG.exists()}")
    if state.error:
        print(f"os-update: {state.error}")
        return 1
    return 0
