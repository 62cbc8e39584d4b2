"""Push (SPEC 1.7): an MQTT subscription that tells the board a channel has a new sequence,
so an emergency arrives in seconds instead of at the next poll.

The message is unsigned and trusted for nothing but "fetch now": the sync that follows
verifies the manifest as every poll does, so a hostile broker can at worst cause a fetch
(at most one every MIN_GAP_S). Polling goes on beside it: a broker that is down costs
only latency. paho-mqtt reconnects by itself, backing off to RECONNECT_MAX_S."""

from __future__ import annotations

import logging
import random
import threading
import time
from collections.abc import Callable
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from kiosk.core.pushmsg import MAX_PACKET, sequence_of, topic

log = logging.getLogger(__name__)
SPREAD_S = 2.0  # SPEC 1.7: a random delay of at most 2 s before the fetch
MIN_GAP_S = 1.0  # a broker that repeats itself causes at most one fetch a second
# A channel whose announced sequence the fetch did not deliver (a broker lying, or ahead of
# the site) is fetched again on push at most once in this long: polling goes on meanwhile
UNDELIVERED_GAP_S = 60.0
RECONNECT_MAX_S = 120
KEEPALIVE_S = 60


class _BoundedClient(mqtt.Client):
    """paho reads a packet of whatever length the broker announces (up to 256 MB). The board
    reads none above MAX_PACKET: the connection is dropped and made again later."""

    def _sock_recv(self, bufsize: int) -> bytes:
        packet = self._in_packet
        if packet.get("have_remaining") and packet.get("remaining_length", 0) > MAX_PACKET:
            raise OSError(f"an MQTT packet of {packet['remaining_length']} bytes refused")
        return super()._sock_recv(min(bufsize, MAX_PACKET + 8))


class Push:
    def __init__(
        self,
        url: str,
        device_id: str,
        channels: tuple[str, ...],
        held: Callable[[str], int],
        fetch: Callable[[], None],
        rng: random.Random | None = None,
        spread_s: float = SPREAD_S,
    ) -> None:
        parts = urlsplit(url)
        self.host, self.tls = parts.hostname or "", parts.scheme == "mqtts"
        self.port = parts.port or (8883 if self.tls else 1883)
        self.topics = {topic(c): c for c in channels}
        self.held, self.fetch = held, fetch
        self.rng, self.spread_s = rng or random.Random(), spread_s
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self._last_fetch = -float("inf")
        # per subscribed channel: (the sequence last chased on push, when); a fixed set
        self._chased: dict[str, tuple[int, float]] = {}
        self.connected = False
        self.client = _BoundedClient(
            CallbackAPIVersion.VERSION2,
            client_id=f"kiosk-{device_id}",
            protocol=mqtt.MQTTv311,
            clean_session=True,
        )
        self.client.reconnect_delay_set(1, RECONNECT_MAX_S)
        self.client.max_queued_messages_set(16)
        if self.tls:
            self.client.tls_set()  # the system's CAs
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message

    def start(self) -> None:
        log.info("push: subscribing at %s:%d", self.host, self.port)
        self.client.connect_async(self.host, self.port, keepalive=KEEPALIVE_S)
        self.client.loop_start()

    def stop(self) -> None:
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
        self.client.disconnect()
        self.client.loop_stop()

    def _on_connect(self, client, _userdata, _flags, reason_code, _properties=None) -> None:
        if reason_code.is_failure:
            log.warning("push: the broker refused the connection: %s", reason_code)
            return
        self.connected = True
        client.subscribe([(topic, 1) for topic in self.topics])
        log.info("push: connected; %d channel(s) subscribed", len(self.topics))

    def _on_disconnect(self, _client, _userdata, _flags, reason_code, _properties=None) -> None:
        if self.connected:
            log.warning("push: disconnected (%s); polling goes on", reason_code)
        self.connected = False

    def _on_message(self, _client, _userdata, message: mqtt.MQTTMessage) -> None:
        try:
            channel = self.topics.get(message.topic)
            n = sequence_of(message.payload, channel) if channel else None
            if channel is None or n is None or n <= self.held(channel):
                return
            if not self._worth_chasing(channel, n):
                log.debug(
                    "push: %s at %d again; its last announcement was not delivered", channel, n
                )
                return
            log.info("push: %s is at sequence %d; fetching", channel, n)
            self._fetch_soon()
        except Exception:  # a bug here must not end paho's thread
            log.exception("push: a message could not be handled")

    def _worth_chasing(self, channel: str, n: int) -> bool:
        """The first announcement, or one after the last was delivered, is fetched at once;
        after an announcement the fetch did not deliver, at most one fetch a channel per
        UNDELIVERED_GAP_S, so a broker repeating a sequence the site does not have (or
        inventing ever higher ones) cannot keep the board fetching."""
        now, held = time.monotonic(), self.held(channel)
        with self._lock:
            last = self._chased.get(channel)
            undelivered = last is not None and held < last[0]
            if undelivered and now - last[1] < UNDELIVERED_GAP_S:
                return False
            self._chased[channel] = (n, now)
            return True

    def _fetch_soon(self) -> None:
        """One fetch after a random delay of at most spread_s, and not sooner than MIN_GAP_S
        after the last; messages that come while one is waiting join it."""
        with self._lock:
            if self._timer is not None:
                return
            now = time.monotonic()
            delay = max(self.rng.uniform(0, self.spread_s), self._last_fetch + MIN_GAP_S - now)
            self._timer = threading.Timer(delay, self._fetch)
            self._timer.daemon = True
            self._timer.start()

    def _fetch(self) -> None:
        with self._lock:
            self._timer = None  # a message from now on gets a fetch of its own
            self._last_fetch = time.monotonic()
        self.fetch()
