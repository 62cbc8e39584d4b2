"""Announcing new sequences on the broker (SPEC 1.7): `bangtin/channels/<channel>` gets a
retained `{"channel": C, "sequence": N}` at QoS 1, so a board that connects later learns the
latest at once. Used by `kiosk publish --notify` once the site is written."""

from __future__ import annotations

from collections.abc import Mapping
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from kiosk.core.pushmsg import message, topic

DEADLINE_S = 10.0


class NotifyError(Exception):
    """The broker could not be told (the site is written all the same; boards will poll)."""


def announce(url: str, sequences: Mapping[str, int], deadline_s: float = DEADLINE_S) -> None:
    parts = urlsplit(url)
    tls = parts.scheme == "mqtts"
    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    client.connect_timeout = deadline_s
    if tls:
        client.tls_set()
    try:
        client.connect(parts.hostname or "", parts.port or (8883 if tls else 1883), keepalive=30)
    except (OSError, ValueError) as exc:
        raise NotifyError(f"cannot reach the broker at {url}: {exc}") from None
    client.loop_start()
    try:
        for channel, sequence in sequences.items():
            payload = message(channel, sequence)
            info = client.publish(topic(channel), payload, qos=1, retain=True)
            info.wait_for_publish(deadline_s)
            if not info.is_published():
                raise NotifyError(f"the broker at {url} did not take {channel}'s announcement")
    except (RuntimeError, ValueError) as exc:
        raise NotifyError(f"the broker at {url}: {exc}") from None
    finally:
        client.disconnect()
        client.loop_stop()
