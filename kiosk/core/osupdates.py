"""Operating-system updates (SPEC 8.3's last rule), pure: when a board may download and
install Debian's security updates and reboot for them, and what it reports.

The window is the screen's off hours (outside `on_hours`): nobody reads a board at 2 a.m.,
and a reboot blanks it for about 40 s. A screen on around the clock has no off hours, so it
takes NIGHT_WINDOW, the quietest hours of a street. A reboot waits for the window, and never
happens while an emergency is on screen; until it happens the board reports
`reboot_required`.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from kiosk.core.timeutil import HourWindow, in_windows, parse_rfc3339
from kiosk.core.updatestate import covers_day

NIGHT_WINDOW = HourWindow(3 * 3600, 5 * 3600)  # 03:00-05:00 local, for 24-hour screens
# The package lists are fetched at most once in this long (a SIM pays for each fetch; the
# window opens every hour of the night): Debian's security archive changes a few times a week.
LISTS_EVERY = timedelta(hours=20)
MAX_STATE_BYTES = 4096
_INST = re.compile(r"^Inst (\S+) ", re.MULTILINE)


def in_maintenance_window(on_hours: tuple[HourWindow, ...], local_now: datetime) -> bool:
    if covers_day(on_hours):
        return in_windows((NIGHT_WINDOW,), None, local_now)
    return not in_windows(on_hours, None, local_now)


def may_reboot(
    on_hours: tuple[HourWindow, ...], local_now: datetime, emergency_on_screen: bool
) -> tuple[bool, str]:
    if emergency_on_screen:
        return False, "an emergency is on screen"
    if not in_maintenance_window(on_hours, local_now):
        return False, "outside the maintenance window"
    return True, "in the maintenance window"


def moment(value: str | None) -> datetime | None:
    """A time the job wrote, or None when it is missing or damaged."""
    try:
        return parse_rfc3339(value) if value else None
    except ValueError:
        return None


def lists_due(last_refreshed: datetime | None, now: datetime) -> bool:
    """A clock set back (no RTC, a bad NTP answer) counts as due: a day's fetch at worst."""
    return last_refreshed is None or not last_refreshed <= now < last_refreshed + LISTS_EVERY


def pending_packages(simulation: str) -> list[str]:
    """The packages `apt-get -s dist-upgrade` would upgrade or install (its "Inst" lines)."""
    return sorted(set(_INST.findall(simulation)))


@dataclass(frozen=True)
class OsUpdateState:
    """What the OS update job last saw, kept in <[update] dir>/os-updates.json (its own file:
    the software updater writes state.json, and two writers of one file would race)."""

    checked_at: str | None = None  # RFC 3339
    lists_at: str | None = None  # the last package lists fetched
    pending: int | None = None  # packages apt would still upgrade; None: never counted
    upgraded_at: str | None = None  # the last run that installed something
    error: str | None = None  # why the last run failed, or None

    def dump(self) -> bytes:
        return (json.dumps(asdict(self), ensure_ascii=False) + "\n").encode()


def parse_os_state(data: bytes) -> OsUpdateState:
    """The job's file; anything damaged reads as never counted (a report, not a decision)."""
    try:
        doc = json.loads(data[:MAX_STATE_BYTES]) if len(data) <= MAX_STATE_BYTES else None
    except (ValueError, RecursionError):
        doc = None
    if not isinstance(doc, dict):
        return OsUpdateState()
    pending = doc.get("pending")

    def text(key: str) -> str | None:
        value = doc.get(key)
        return value[:300] if isinstance(value, str) else None

    return OsUpdateState(
        checked_at=text("checked_at"),
        lists_at=text("lists_at"),
        pending=pending if type(pending) is int and 0 <= pending < 100_000 else None,
        upgraded_at=text("upgraded_at"),
        error=text("error"),
    )
