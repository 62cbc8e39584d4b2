"""Work on many rows done in short transactions, so the heartbeats never wait long.

SQLite has one writer at a time: a transaction that deletes or sums a million rows would
hold every heartbeat for seconds. Each step here is one transaction over at most `limit`
rows, sized by how long the last step took to hold the write lock for about half of STEP_S;
a run stops after BUDGET_S and the next minute's housekeeping goes on.

On SQLite a step also rests REST_S before the next: a heartbeat that found the lock taken
sleeps in SQLite's busy handler (up to 100 ms between tries), and a loop that takes the lock
again at once would starve it for the whole run (seen: 12 s at 10,000 boards).
"""

from __future__ import annotations

import time
from collections.abc import Callable

STEP_S = 0.05  # the longest a step may hold SQLite's write lock
BUDGET_S = 20.0  # one housekeeping run's share of each chore
REST_S = 0.15  # between two steps on SQLite: longer than the busy handler's longest sleep
FIRST_CHUNK, MIN_CHUNK, MAX_CHUNK = 500, 50, 20_000


def next_chunk(chunk: int, took_s: float) -> int:
    """The next step's size: aimed at half of STEP_S, by what the last one took."""
    if took_s <= 0:
        return min(MAX_CHUNK, chunk * 2)
    aimed = int(chunk * (STEP_S / 2) / took_s)
    return max(MIN_CHUNK, min(MAX_CHUNK, aimed, chunk * 2))


def rest_for(vendor: str) -> float:
    """The rest between two steps: SQLite's writers take turns only if we pause."""
    return REST_S if vendor == "sqlite" else 0.0


def in_steps(step: Callable[[int], tuple[int, float]], clock: Callable[[], float],
             rest_s: float = 0.0, sleep: Callable[[float], None] = time.sleep) -> int:  # fmt: skip
    """Runs step(limit), which does at most limit rows in one transaction and returns how
    many it did and how long it held the lock (from its BEGIN's end to its COMMIT's end: the
    commit writes every page the step changed, not a fixed cost), resting rest_s between
    steps, until a step does fewer than asked or BUDGET_S is spent; returns the rows done."""
    done, chunk, deadline = 0, FIRST_CHUNK, clock() + BUDGET_S
    while clock() < deadline:
        n, held = step(chunk)
        done += n
        if n < chunk:
            break
        chunk = next_chunk(chunk, held)
        if rest_s:
            sleep(rest_s)
    return done
