"""The board's own hardware kept in step with the kiosk every HARDWARE_EVERY_S: the status
LED shows the health status, the fan follows the CPU temperature, and the panel's power
switch (HDMI-CEC or a relay) follows what the player decided (dark by display.on_hours)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from kiosk.board.hardware import Hardware
from kiosk.board.power import CecSwitch, PowerKeeper, RelaySwitch
from kiosk.board.reporter import Reporter
from kiosk.core.config import Config

log = logging.getLogger(__name__)
HARDWARE_EVERY_S = 2.0


def power_keeper(config: Config) -> PowerKeeper | None:
    """The panel's own power switch for display.power cec or relay (blank needs none)."""
    if config.display.power == "cec":
        return PowerKeeper(CecSwitch())
    if config.display.power == "relay":
        try:
            return PowerKeeper(RelaySwitch(config.gpio["screen_relay"]))
        except Exception as exc:  # gpiozero's errors when the machine has no GPIO
            log.warning("display.power = relay, but the relay cannot be driven here: %s", exc)
    return None


def start_hardware(
    config: Config,
    reporter: Reporter,
    sync_now: Callable[[], None],
    stop: threading.Event,
    on_press: Callable[[], None],
) -> Hardware | None:
    """The [gpio] parts and the panel's power switch, with a thread that shows the status on
    the LED, runs the fan and switches the panel as the player decided."""
    hardware = None
    if config.gpio:
        hardware = Hardware(
            config.gpio,
            sync_now=sync_now,
            on_press=on_press,
        )
        reporter.door_open = hardware.door_open
    keeper = power_keeper(config)
    if hardware is None and keeper is None:
        return None

    def watch() -> None:
        while not stop.wait(HARDWARE_EVERY_S):
            try:
                if keeper is not None:
                    keeper.apply(reporter.player.display_state == "on")
                if hardware is not None:
                    doc = reporter.document()
                    hardware.show_status(doc["status"])
                    hardware.cool(doc["system"]["cpu_temp_c"])
            except Exception:  # the LED, fan and panel must outlive a bug
                log.exception("hardware update failed")

    threading.Thread(target=watch, name="hardware", daemon=True).start()
    return hardware
