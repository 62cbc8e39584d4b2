"""Switching the panel itself on and off (display.power), following the player's decision.

`blank` needs nothing here: the player's black frame is the whole of it. `cec` asks the
screen over HDMI-CEC (cec-ctl, from v4l-utils) to stand by or to wake; `relay` switches
its mains through the screen_relay pin. The wanted state is re-asserted every few minutes:
a screen someone switched by hand, or one that missed a CEC message, comes back in line.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import time
from collections.abc import Callable
from typing import Any, Protocol

from gpiozero import OutputDevice

log = logging.getLogger(__name__)
REASSERT_S = 600.0
CEC_TIMEOUT_S = 10.0


class Switch(Protocol):
    def set(self, on: bool) -> None: ...


class CecSwitch:
    def __init__(self, tool: str = "cec-ctl") -> None:
        self.tool = shutil.which(tool)
        if self.tool is None:
            log.warning("display.power = cec, but %s is not installed (v4l-utils)", tool)
        self._configured = False

    def set(self, on: bool) -> None:
        if self.tool is None:
            return
        if not self._configured:  # announce ourselves once as a playback device
            self._run("--playback")
            self._configured = True
        self._run("--to", "0", "--image-view-on" if on else "--standby")

    def _run(self, *args: str) -> None:
        try:
            done = subprocess.run(
                [self.tool or "cec-ctl", *args], capture_output=True, timeout=CEC_TIMEOUT_S
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            log.warning("cec-ctl %s failed: %s", " ".join(args), exc)
            return
        if done.returncode != 0:
            log.warning(
                "cec-ctl %s failed: %s", " ".join(args), done.stderr.decode(errors="replace")[:200]
            )


class RelaySwitch:
    def __init__(self, pin: int, pin_factory: Any = None) -> None:
        self.relay = OutputDevice(pin, pin_factory=pin_factory)

    def set(self, on: bool) -> None:
        self.relay.value = on


class PowerKeeper:
    """Applies the wanted state when it changes, and again every REASSERT_S."""

    def __init__(self, switch: Switch, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.switch, self.monotonic = switch, monotonic
        self._applied: bool | None = None
        self._at = -float("inf")

    def apply(self, on: bool) -> None:
        now = self.monotonic()
        if on == self._applied and now - self._at < REASSERT_S:
            return
        self.switch.set(on)
        self._applied, self._at = on, now
