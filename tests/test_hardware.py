"""The status LED, fan, door switch and service button on gpiozero's MockFactory pins."""

from __future__ import annotations

import threading
import time

import pytest
from gpiozero.pins.mock import MockFactory

from kiosk.board.hardware import Hardware

PINS = {"status_led": 17, "fan": 18, "service_button": 22, "door_switch": 23}


@pytest.fixture
def pins():
    factory = MockFactory()
    yield factory
    factory.close()


def changes_in(pin, seconds: float) -> int:
    pin.clear_states()
    time.sleep(seconds)
    return len(pin.states) - 1


def test_the_led_is_steady_when_ok_and_blinks_slowly_or_fast(pins):
    hw = Hardware(PINS, pin_factory=pins)
    led = pins.pin(17)
    hw.show_status("ok")
    assert led.state and changes_in(led, 0.6) == 0
    hw.show_status("failing")
    fast = changes_in(led, 1.2)
    assert fast >= 6  # 0.15 s on, 0.15 s off
    hw.show_status("degraded")
    slow = changes_in(led, 1.2)
    assert 1 <= slow <= 2  # 1 s on, 1 s off
    hw.show_status("ok")
    assert led.state
    hw.close()


def test_the_fan_follows_temperature_with_hysteresis(pins):
    hw = Hardware(PINS, pin_factory=pins)
    fan = pins.pin(18)
    for temp, on in [
        (50, False),
        (65, False),
        (70, True),
        (65, True),
        (60, True),
        (59.9, False),
        (69.9, False),
        (None, True),
    ]:
        hw.cool(temp)
        assert fan.state == on, temp
    hw.close()


def test_the_door_switch_says_whether_the_door_is_open(pins):
    hw = Hardware(PINS, pin_factory=pins)
    door = pins.pin(23)
    door.drive_low()  # the switch closed: the door is shut
    assert hw.door_open() is False
    door.drive_high()
    assert hw.door_open() is True
    hw.close()


def test_a_press_shows_the_overlay_and_a_hold_syncs_now(pins):
    pressed, held = threading.Event(), threading.Event()
    hw = Hardware(PINS, sync_now=held.set, on_press=pressed.set, pin_factory=pins, hold_s=0.3)
    button = pins.pin(22)
    button.drive_low()
    assert pressed.wait(1) and not held.is_set()
    assert held.wait(2)
    button.drive_high()
    hw.close()


def test_no_pins_configured_means_no_devices(pins):
    hw = Hardware({}, pin_factory=pins)
    hw.show_status("failing")
    hw.cool(90)
    assert hw.door_open() is None


def test_a_machine_without_gpio_runs_without_it():
    hw = Hardware(PINS)  # this machine has no GPIO chip: gpiozero cannot make a pin
    assert hw.led is None and hw.door_open() is None
    hw.show_status("ok")
    hw.cool(80)
