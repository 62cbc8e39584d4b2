"""A staged rollout, as the province plans it and counts it (SPEC 8.2), pure.

The province moves a release through STAGES: its canary boards first (named one by one),
then 10%, 50% and 100% of the fleet by bucket. At each stage the officer sees, for the
version, how many boards run it, are on trial, are on their way (downloading, staged),
have rolled back, and how many of those chosen have not started (or do not report their
software: a board of a release older than updates). The rollout halts itself once
`halt_after_failures` boards have rolled back from its version.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from kiosk.core.release import bucket

STAGES = (0, 10, 50, 100)  # the fleet's share at each stage after the canaries


@dataclass(frozen=True)
class BoardSoftware:
    """A board's software as its last heartbeat said (SPEC 3.2 `software`); "" when its
    heartbeats carry none."""

    device_id: str
    version: str = ""
    state: str = ""
    target: str = ""
    failed: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Counts:
    """Of the boards a rollout chooses: where each is with its version."""

    chosen: int = 0
    running: int = 0  # committed: the version runs and passed its trial
    trial: int = 0
    on_the_way: int = 0  # downloading or staged for this version
    rolled_back: int = 0  # tried it and went back: it is in their failed_versions
    waiting: int = 0  # chosen, and nothing of the above yet (or no software reported)


def next_percent(percent: int) -> int | None:
    """The stage after this share of the fleet, or None at 100%."""
    later = [p for p in STAGES if p > percent]
    return later[0] if later else None


def chosen(device_id: str, version: str, devices: frozenset[str], percent: int) -> bool:
    """SPEC 8.2, as the board decides it (core.release.Rollout.chooses)."""
    return device_id in devices or bucket(device_id, version) < percent


def count(
    boards: Iterable[BoardSoftware], version: str, devices: frozenset[str], percent: int
) -> Counts:
    """The rollout page's figures for one version. A board that rolled back is counted as
    such even when it is not chosen any more (a halt, a smaller share): it tried."""
    tally = dict.fromkeys(("chosen", "running", "trial", "on_the_way", "rolled_back", "waiting"), 0)
    for b in boards:
        picked = chosen(b.device_id, version, devices, percent)
        tally["chosen"] += picked
        if version in b.failed:
            tally["rolled_back"] += 1
        elif b.version == version:
            tally["trial" if b.state == "trial" else "running"] += 1
        elif b.target == version and b.state in ("downloading", "staged"):
            tally["on_the_way"] += 1
        elif picked:
            tally["waiting"] += 1
    return Counts(**tally)


def should_halt(rolled_back: int, halt_after_failures: int) -> bool:
    return rolled_back >= halt_after_failures
