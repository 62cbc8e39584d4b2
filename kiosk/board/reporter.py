"""Gathers the running parts' state into health readings and the /health document.

Runs in the health server's threads. It only reads: the player's state (written by the
player thread alone), the sync loop's status (replaced whole, never mutated) and the clock.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from kiosk import __version__
from kiosk.board.clock import SourceClock
from kiosk.board.heartbeat import Heartbeat
from kiosk.board.player import PlayerState
from kiosk.board.plays import PlayQueue
from kiosk.board.softwarewatch import SoftwareWatch
from kiosk.board.store import MIN_FREE_BYTES
from kiosk.board.syncloop import SyncLoop
from kiosk.board.sysinfo import SystemFigures, read_figures
from kiosk.core.config import Config
from kiosk.core.health import (
    Problem,
    ProblemLog,
    Readings,
    find_problems,
    grouped,
    health_document,
    rfc3339,
    status_of,
)


def title_of(state: PlayerState) -> str | None:
    """The label of the item on screen, when the player's two notes of it agree."""
    key, label = state.current_label or (None, None)
    return label if key == state.current else None


class Reporter:
    def __init__(
        self,
        config: Config,
        clock: SourceClock,
        player: PlayerState,
        panel: tuple[int, int],
        sync: SyncLoop | None,
        monotonic: Callable[[], float] = time.monotonic,
        figures: Callable[[], SystemFigures] | None = None,
    ) -> None:
        self.config, self.clock, self.player = config, clock, player
        self.panel, self.sync = panel, sync
        self.monotonic = monotonic
        self.figures = figures or (lambda: read_figures(config.storage_dir))
        self.heartbeat: Heartbeat | None = None  # set once the heartbeat runs
        self.door_open: Callable[[], bool | None] = lambda: None  # set when a switch is wired
        self.plays: PlayQueue | None = None
        self.software = SoftwareWatch(config.update.dir)
        self.started_mono = monotonic()
        self.started_at = clock.now()
        self._log = ProblemLog()
        self._lock = threading.Lock()  # the problem log is shared by the server's threads

    def _content_problems(self) -> tuple[Problem, ...]:
        found: list[Problem] = []
        status = self.sync.status if self.sync else None
        if status is not None:
            if status.error is not None:
                found.append(status.error)
            if status.report is not None:
                found.extend(status.report.problems)
                for channel in status.report.channels:
                    found.extend(channel.problems)
        for (channel, item), why in dict(self.player.problems).items():
            code, _, message = why.partition(": ")
            found.append(Problem(code, f"{channel}: item {item}: {message}", channel))
        return tuple(found)

    def readings(self, now: datetime, figures: SystemFigures) -> Readings:
        state = self.player
        status = self.sync.status if self.sync else None
        loop_age = self.monotonic() - state.last_tick if state.frames else None
        return Readings(
            now=now,
            display_state=state.display_state,
            items_active=state.items_active,
            emergency=state.emergency,
            loop_age_s=loop_age,
            content_problems=self._content_problems(),
            sync_failures=status.consecutive_failures if status else 0,
            last_sync_success=status.last_success_at if status else None,
            poll_s=self.config.source.poll_seconds,
            cpu_temp_c=figures.cpu_temp_c,
            throttled=figures.throttled,
            disk_free_mb=figures.disk_free_mb,
            disk_reserve_mb=MIN_FREE_BYTES / (1024 * 1024),
            started_at=self.started_at if self.sync else None,
            heartbeat_failures=self.heartbeat.status.consecutive_failures if self.heartbeat else 0,
            door_open=self.door_open(),
            update_failure=failure.problem()
            if (failure := self.software.state().failure)
            else None,
        )

    def document(self) -> dict[str, Any]:
        now = self.clock.now()
        figures = self.figures()
        r = self.readings(now, figures)
        problems = find_problems(r)
        with self._lock:
            dated = self._log.update(grouped(problems), now)
        device = self.config.device
        state = self.player
        status = self.sync.status if self.sync else None
        report = status.report if status else None
        return health_document(
            status_of(problems),
            dated,
            {
                "device": {
                    "id": device.id,
                    "name": device.name,
                    "unit_name": device.unit_name,
                    "unit_kind": device.unit_kind,
                    "province_code": device.province_code,
                    "commune_code": device.commune_code,
                },
                "version": __version__,
                "time": rfc3339(now),
                "uptime_s": round(self.monotonic() - self.started_mono),
                "display": {
                    "state": r.display_state,
                    "width": self.panel[0],
                    "height": self.panel[1],
                    "current_item": (
                        {
                            "channel": state.current[0],
                            "id": state.current[1],
                            "title": title_of(state),
                        }
                        if state.current
                        else None
                    ),
                    "last_frame_at": rfc3339(
                        now - timedelta(seconds=r.loop_age_s) if r.loop_age_s is not None else None
                    ),
                },
                "sync": {
                    "last_attempt_at": rfc3339(status.last_attempt_at if status else None),
                    "last_success_at": rfc3339(status.last_success_at if status else None),
                    "consecutive_failures": status.consecutive_failures if status else 0,
                    "channels": {
                        c.channel: {
                            "sequence": c.sequence,
                            "items": c.items,
                            "expires_at": rfc3339(c.expires_at),
                        }
                        for c in (report.channels if report else ())
                    },
                },
                "content": {
                    "items_active": state.items_active,
                    "emergency_active": state.emergency,
                },
                "system": {
                    "cpu_temp_c": figures.cpu_temp_c,
                    "load_1m": figures.load_1m,
                    "mem_available_mb": figures.mem_available_mb,
                    "disk_free_mb": figures.disk_free_mb,
                    "clock_skew_s": _rounded(self.clock.skew_s),
                },
                "heartbeat": {
                    "last_success_at": rfc3339(
                        self.heartbeat.status.last_success_at if self.heartbeat else None
                    ),
                    "queued_plays": len(self.plays) if self.plays is not None else None,
                    "dropped_plays": self.plays.dropped if self.plays is not None else None,
                    "uploaded_today_bytes": (
                        self.heartbeat.uploaded_today() if self.heartbeat else None
                    ),
                    "upload_budget_bytes": self.heartbeat.upload_budget if self.heartbeat else None,
                },
                "software": self.software.health(__version__),
            },
        )


def _rounded(value: float | None) -> float | None:
    return round(value, 1) if value is not None else None
