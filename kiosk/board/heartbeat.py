"""The heartbeat (SPEC 1.6): the health document and the plays not yet acknowledged, POSTed
every heartbeat_seconds. Only a 2xx answer drops plays.

The device token goes only to https:// or a loopback address, is read from its file at
each heartbeat (so an installer can replace it), and never appears in a log.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import requests

from kiosk import __version__
from kiosk.board.commands import Commands
from kiosk.board.player import PlayerState
from kiosk.board.plays import PlayQueue
from kiosk.core.config import Config
from kiosk.core.health import rfc3339
from kiosk.core.httpbody import IDENTITY, BodyRefused, read_body

log = logging.getLogger(__name__)
TIMEOUTS = (5.0, 15.0)
REPLY_DEADLINE_S = 20.0
FLUSH_S = 60.0  # the plays reach the disk at least this often
MAX_REPLY_BYTES = 64 * 1024  # SPEC 1.6: a larger reply is ignored
BATCH = 500
CATCH_UP_BATCHES = 20  # after an outage, up to this many batches back to back
# What a board may upload in a day (the board's day), for a 4G SIM's sake: heartbeats
# always go (about 8 MB a day at the default minute); a screenshot waits while it would
# pass the budget
UPLOAD_BUDGET = 20 * 1024 * 1024


def heartbeat_url(config: Config) -> str:
    return config.source.heartbeat_url or (
        f"{config.source.url}/devices/{config.device.id}/heartbeat"
    )


def may_send_token(url: str) -> bool:
    """Only over https, or to this machine."""
    parts = urlsplit(url)
    if parts.scheme == "https":
        return True
    host = parts.hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def read_token(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        token = path.read_text("utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        log.warning("the token file %s cannot be read (%s)", path, type(exc).__name__)
        return None
    return token or None


MAX_PLAY_S = 3600.0  # a play longer than this is recorded as several (SPEC 7.4's bound)


class PlayRecorder:
    """Turns the player's state, seen after each turn of its loop, into plays: one each time
    a slide begins, so an item shown alone for an hour is a play each time it comes round,
    and none longer than MAX_PLAY_S (a province refuses longer ones)."""

    def __init__(
        self,
        queue: PlayQueue,
        clock: Callable[[], datetime],
        mono: Callable[[], float] = time.monotonic,
    ) -> None:
        self.queue, self.clock, self.mono = queue, clock, mono
        self._current: tuple[str, str] | None = None
        self._showing = -1
        self._started_at: datetime | None = None
        self._started_mono = 0.0

    def __call__(self, state: PlayerState) -> None:
        long = self.mono() - self._started_mono >= MAX_PLAY_S
        if state.current == self._current and state.showings == self._showing and not long:
            return
        self.close()
        self._current, self._showing = state.current, state.showings
        self._started_at, self._started_mono = self.clock(), self.mono()

    def close(self) -> None:
        """Record the play on screen until now (a slide change, or the kiosk stopping)."""
        if self._current is not None and self._started_at is not None:
            self.queue.add(
                *self._current, rfc3339(self._started_at), self.mono() - self._started_mono
            )
        self._current = None


@dataclass(frozen=True)
class HeartbeatStatus:
    last_success_at: datetime | None = None
    consecutive_failures: int = 0


class Heartbeat:
    def __init__(
        self,
        config: Config,
        queue: PlayQueue,
        health: Callable[[], dict[str, Any]],
        clock: Callable[[], datetime],
    ) -> None:
        self.url = heartbeat_url(config)
        self.config, self.queue, self.health, self.clock = config, queue, health, clock
        self.status = HeartbeatStatus()
        self.upload_budget = UPLOAD_BUDGET
        self._uploaded: tuple[date | None, int] = (None, 0)  # (the board's day, bytes sent)
        self._over_budget_noted: date | None = None
        self.reply = b""  # the last 2xx reply's body (at most 64 KiB), for its commands
        self.commands: Commands | None = None  # what the replies' commands act on
        self.reply_deadline_s, self.flush_s = REPLY_DEADLINE_S, FLUSH_S
        self.session = requests.Session()
        self.session.trust_env = False
        self.session.max_redirects = 0  # a redirect could carry the token elsewhere
        self.session.headers["User-Agent"] = f"kiosk/{__version__} ({config.device.id})"
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)

    def _today(self):
        return self.clock().astimezone(self.config.device.tz).date()

    def uploaded_today(self) -> int:
        """Bytes sent to the province today (the board's day): heartbeats, plays and
        screenshots, as /health reports them."""
        day, sent = self._uploaded
        return sent if day == self._today() else 0

    def _count_upload(self, size: int) -> None:
        self._uploaded = (self._today(), self.uploaded_today() + size)

    def start(self) -> None:
        self.thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        """A heartbeat every heartbeat_seconds, and the plays written to disk at least every
        FLUSH_S in between: a pulled plug loses at most that much proof of play, whatever
        the heartbeat's interval, for one small append a minute."""
        interval = self.config.source.heartbeat_seconds
        next_beat = time.monotonic() + interval * random.uniform(0.9, 1.1)
        while not self._stop.wait(max(0.0, min(self.flush_s, next_beat - time.monotonic()))):
            try:
                if time.monotonic() >= next_beat:
                    next_beat = time.monotonic() + interval * random.uniform(0.9, 1.1)
                    self.beat()
                else:
                    self.queue.flush()
            except Exception:  # a bug must not end the heartbeat for good
                log.exception("heartbeat failed unexpectedly")

    def beat(self) -> bool:
        """Flush the plays to disk, then send batches until the queue is empty, an answer is
        not 2xx, or CATCH_UP_BATCHES were sent. True when the source took everything sent."""
        self.queue.flush()
        for n in range(CATCH_UP_BATCHES):
            plays = self.queue.batch(BATCH)
            if n and not plays and not (self.commands and self.commands.waiting()):
                break
            if not self._send(plays):
                return False
            if plays:
                self.queue.acknowledge(plays[-1].id)
        return True

    def _send(self, plays: list) -> bool:
        body = {
            "device_id": self.config.device.id,
            "sent_at": rfc3339(self.clock()),
            "health": self.health(),
            "plays": [p.wire() for p in plays],
        }
        extra = self.commands.body() if self.commands else {}
        body |= extra
        data = json.dumps(body).encode()
        if "screenshot" in extra and self.uploaded_today() + len(data) > self.upload_budget:
            if self._over_budget_noted != self._today():
                log.warning("the day's upload budget is spent: the screenshot waits")
                self._over_budget_noted = self._today()
            extra = {k: v for k, v in extra.items() if k != "screenshot"}
            body.pop("screenshot")
            data = json.dumps(body).encode()
        headers = {"Content-Type": "application/json"}
        token = read_token(self.config.source.token_file)
        if token and may_send_token(self.url):
            headers["Authorization"] = f"Bearer {token}"
        headers |= IDENTITY
        deadline = time.monotonic() + self.reply_deadline_s
        try:
            with self.session.post(
                self.url,
                data=data,
                headers=headers,
                timeout=TIMEOUTS,
                stream=True,  # the reply is read by us, bounded, not whole by requests
            ) as answer:
                ok = 200 <= answer.status_code < 300
                reason = f"HTTP {answer.status_code}"
                self.reply = read_body(answer, MAX_REPLY_BYTES, deadline) if ok else b""
        except requests.RequestException as exc:
            ok, reason = False, type(exc).__name__
        except BodyRefused as exc:  # the plays were taken (2xx); only the reply is ignored
            log.debug("heartbeat reply ignored: %s", exc)
            self.reply = b""
        self._count_upload(len(data))
        previous = self.status
        if ok and self.commands is not None:
            self.commands.taken(extra)
            self.commands.take(self.reply)
        if ok:
            self.status = HeartbeatStatus(self.clock(), 0)
        else:
            self.status = HeartbeatStatus(
                previous.last_success_at, previous.consecutive_failures + 1
            )
            if previous.consecutive_failures == 0:
                log.warning("heartbeat to %s failed: %s", self.url, reason)
        return ok
