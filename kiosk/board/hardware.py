"""The board's own hardware through gpiozero, each part optional ([gpio] in kiosk.toml):
a status LED, a fan, a service button and a cabinet door switch.

gpiozero's pin factories are the small interface: a Raspberry Pi uses lgpio, the tests
gpiozero's MockFactory. A machine without GPIO runs the kiosk unchanged, without them.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Mapping
from typing import Any

from gpiozero import LED, Button, OutputDevice
from gpiozero.exc import GPIOZeroError, PinFactoryFallback

log = logging.getLogger(__name__)

FAN_ON_C = 70.0  # the fan starts here...
FAN_OFF_C = 60.0  # ...and stops only below this, so it does not chatter around one value
BLINK = {"degraded": (1.0, 1.0), "failing": (0.15, 0.15)}  # seconds on, off
HOLD_S = 5.0


class Hardware:
    def __init__(
        self,
        pins: Mapping[str, int],
        sync_now: Callable[[], None] = lambda: None,
        on_press: Callable[[], None] = lambda: None,
        pin_factory: Any = None,
        hold_s: float = HOLD_S,
    ) -> None:
        self.led: LED | None = None
        self.fan: OutputDevice | None = None
        self.door: Button | None = None
        self.button: Button | None = None
        self._status: str | None = None
        try:
            self._make(pins, sync_now, on_press, pin_factory, hold_s)
        except (GPIOZeroError, OSError, RuntimeError) as exc:
            log.warning("no GPIO on this machine (%s); the [gpio] pins are not used", exc)
            self.close()
            self.led = self.fan = self.door = self.button = None

    def _make(
        self,
        pins: Mapping[str, int],
        sync_now: Callable[[], None],
        on_press: Callable[[], None],
        pin_factory: Any,
        hold_s: float,
    ) -> None:
        with warnings.catch_warnings():
            # gpiozero warns for each pin library it cannot load; our one line says it all
            warnings.simplefilter("ignore", PinFactoryFallback)
            if "status_led" in pins:
                self.led = LED(pins["status_led"], pin_factory=pin_factory)
            if "fan" in pins:
                self.fan = OutputDevice(pins["fan"], pin_factory=pin_factory)
            if "door_switch" in pins:  # the switch closes (to ground) while the door is shut
                self.door = Button(pins["door_switch"], pull_up=True, pin_factory=pin_factory)
            if "service_button" in pins:
                self.button = Button(
                    pins["service_button"], hold_time=hold_s, pin_factory=pin_factory
                )
                self.button.when_held = sync_now
                self.button.when_pressed = on_press

    def show_status(self, status: str) -> None:
        """Steady for ok, a slow blink when degraded, a fast one when failing."""
        if self.led is None or status == self._status:
            return
        self._status = status
        if status in BLINK:
            on, off = BLINK[status]
            self.led.blink(on_time=on, off_time=off)
        else:
            self.led.on()

    def cool(self, cpu_temp_c: float | None) -> None:
        """The fan by temperature with hysteresis; on when the temperature cannot be read."""
        if self.fan is None:
            return
        if cpu_temp_c is None or cpu_temp_c >= FAN_ON_C:
            self.fan.on()
        elif cpu_temp_c < FAN_OFF_C:
            self.fan.off()

    def door_open(self) -> bool | None:
        return None if self.door is None else not self.door.is_pressed

    def close(self) -> None:
        for device in (self.led, self.fan, self.door, self.button):
            if device is not None:
                device.close()
