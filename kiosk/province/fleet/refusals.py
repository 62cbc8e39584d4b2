"""Refused requests (a wrong token, a body too large, not a heartbeat, a bad screenshot),
counted in memory that gunicorn's workers share, never in the database: a flood of forged
heartbeats must cost the database nothing (SPEC 7.4), or it would slow every real board's.

The counts live in a shared-memory array made when this module is imported. gunicorn runs
with --preload, so that happens once in its master, before it forks the workers: every
worker, a recycled one too, adds to the same array under one lock. They start from zero
when the server starts, as Prometheus counters do (rate() and increase() read a restart as
a reset)."""

from __future__ import annotations

import ctypes
import multiprocessing

REASONS = ("heartbeat_unauthorized", "heartbeat_too_large", "heartbeat_invalid",
           "screenshot_refused")  # fmt: skip


class Refusals:
    """Counts by reason, shared by the processes forked after it was made."""

    def __init__(self) -> None:
        self._counts = multiprocessing.RawArray(ctypes.c_uint64, len(REASONS))
        self._lock = multiprocessing.Lock()

    def count(self, reason: str) -> None:
        n = REASONS.index(reason)
        with self._lock:
            self._counts[n] += 1

    def totals(self) -> dict[str, int]:
        with self._lock:
            return dict(zip(REASONS, self._counts, strict=True))


REFUSED = Refusals()  # made in gunicorn's master (--preload), shared by its workers
