"""What is on screen at a moment, and when that next changes (SPEC 2.1 and 2.4).

Pure functions of the content and a time, after Anthias's scheduling.py: the player asks
`rotation_at(now)` and sleeps until `next_change(now)`, so it never polls.
"""

from __future__ import annotations

import heapq
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from kiosk.core.model import Item
from kiosk.core.timeutil import HourWindow, in_windows

_RANK = {"emergency": 0, "priority": 1, "normal": 2}
_MAX_STEPS = 64


@dataclass(frozen=True)
class ChannelContent:
    """One channel's items as the last good manifest gave them."""

    name: str
    items: tuple[Item, ...]
    expires_at: datetime | None = None


@dataclass(frozen=True)
class Entry:
    """An item in the rotation, with the channel it came from."""

    channel: str
    item: Item

    @property
    def key(self) -> tuple[str, str]:
        return (self.channel, self.item.id)


@dataclass(frozen=True)
class Rotation:
    slides: tuple[Entry, ...]
    tickers: tuple[Entry, ...]
    emergency: bool

    @property
    def empty(self) -> bool:
        return not self.slides and not self.tickers


def is_active(item: Item, now: datetime, tz: tzinfo, expires_at: datetime | None = None) -> bool:
    """Validity, weekdays and hours; an emergency stops once its manifest has expired."""
    if item.valid_from is not None and now < item.valid_from:
        return False
    if item.valid_until is not None and now >= item.valid_until:
        return False
    if item.priority == "emergency" and expires_at is not None and now >= expires_at:
        return False
    return item.week is None or item.week.contains(now.astimezone(tz))


def rotation_at(channels: Sequence[ChannelContent], now: datetime, tz: tzinfo) -> Rotation:
    """Channels in the configured order, items in manifest order, priority ahead of normal;
    while any emergency item (of any type) is active, only emergency items."""
    active = [
        Entry(ch.name, item)
        for ch in channels
        for item in ch.items
        if is_active(item, now, tz, ch.expires_at)
    ]
    emergency = any(e.item.priority == "emergency" for e in active)
    if emergency:
        active = [e for e in active if e.item.priority == "emergency"]
    active.sort(key=lambda e: _RANK[e.item.priority])  # stable: manifest order is kept
    return Rotation(
        slides=tuple(e for e in active if not e.item.is_ticker),
        tickers=tuple(e for e in active if e.item.is_ticker),
        emergency=emergency,
    )


def _item_flip(
    item: Item, now: datetime, tz: tzinfo, expires_at: datetime | None
) -> datetime | None:
    """The first moment after now at which this item turns on or off. Each step is a binary
    search (WeekMask); the walk is bounded, and a walk cut short returns an early wake-up."""
    fixed = [item.valid_from, item.valid_until]
    if item.priority == "emergency":
        fixed.append(expires_at)
    mask = item.week
    state = is_active(item, now, tz, expires_at)
    moment = now
    for _ in range(_MAX_STEPS):
        candidates = [c for c in fixed if c is not None and c > moment]
        waiting = item.valid_from is not None and moment < item.valid_from
        if mask is not None and not waiting:  # before valid_from, windows change nothing
            edge = mask.next_edge(moment.astimezone(tz))
            if edge is not None:
                candidates.append(edge)
        if not candidates:
            return None
        moment = min(candidates)
        if is_active(item, moment, tz, expires_at) != state:
            return moment
    return moment


def next_showing(item: Item, now: datetime, tz: tzinfo) -> datetime | None:
    """now if the item shows now; else the first moment its validity, weekdays and hours let
    it show; None if they never will again (the whole schedule has passed), which the
    province refuses to approve and never calls "on air"."""
    if is_active(item, now, tz):
        return now
    flip = _item_flip(item, now, tz, None)
    return flip if flip is not None and is_active(item, flip, tz) else None


def next_change(channels: Sequence[ChannelContent], now: datetime, tz: tzinfo) -> datetime | None:
    """The first moment after now at which the rotation changes, or None if it never does.

    An item may turn on or off without changing the rotation (a normal item during an
    emergency), so flips are walked in order, each item's next flip kept in a heap, until
    one changes it; after _MAX_STEPS such flips the last is returned: an early wake-up that
    changes nothing. So the cost is bounded whatever the content.
    """
    current = rotation_at(channels, now, tz)
    heap: list[tuple[datetime, int, int]] = []
    for c, ch in enumerate(channels):
        for i, item in enumerate(ch.items):
            if (flip := _item_flip(item, now, tz, ch.expires_at)) is not None:
                heap.append((flip, c, i))
    heapq.heapify(heap)
    moment = None
    for _ in range(_MAX_STEPS):
        if not heap:
            return None
        moment = heap[0][0]
        emergency_flipped = False
        while heap and heap[0][0] == moment:  # every item that flips at this moment
            _, c, i = heapq.heappop(heap)
            ch = channels[c]
            emergency_flipped |= ch.items[i].priority == "emergency"
            if (flip := _item_flip(ch.items[i], moment, tz, ch.expires_at)) is not None:
                heapq.heappush(heap, (flip, c, i))
        if current.emergency and not emergency_flipped:
            continue  # while an emergency holds the screen, only emergency items count
        if rotation_at(channels, moment, tz) != current:
            return moment
    return moment


def screen_wanted(on_hours: tuple[HourWindow, ...], local: datetime, emergency: bool) -> bool:
    """The screen is on during display.on_hours, and whenever an emergency is active."""
    return emergency or in_windows(on_hours, None, local)


@dataclass(frozen=True)
class Followed:
    """Where the rotation goes on from after it changed: `index` is the slide before the
    next one to show (-1: from the first; None: where it was), `action` is "restart" when
    the slide on screen must change now, "repaint" when only the tickers changed, None when
    the picture stays."""

    index: int | None
    action: str | None
    resumed: bool = False  # the stopped run's item was found, and is used up


def follow(
    old: Rotation,
    new: Rotation,
    on_screen: Entry | None,
    resume_at: tuple[str, str] | None = None,
) -> Followed:
    """The rotation on screen carried across a change of content or of the hour: the slide
    on screen stays while it is still in the rotation (shown again at once if it was
    edited); an idle screen starts from where the last run stopped, when it can."""
    repaint = "repaint" if old.tickers != new.tickers else None
    if on_screen is None:
        resumed = [n for n, e in enumerate(new.slides) if e.key == resume_at]
        same = old.slides == new.slides and old.emergency == new.emergency
        action = repaint if same else "restart"
        if resumed:  # a restart goes on where it was, not from the first slide again
            return Followed(resumed[0] - 1, action, resumed=True)
        return Followed(None, action)
    for n, entry in enumerate(new.slides):
        if entry.key == on_screen.key:
            if entry != on_screen:  # the same item, edited: show it again, now
                return Followed(n - 1, "restart")
            return Followed(n, repaint)
    return Followed(-1, "restart")
