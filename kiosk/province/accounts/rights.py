"""Who may do what to a bulletin: the two steps of the console, as pure rules.

An author writes and submits for their channels; an approver of every channel a bulletin
goes to publishes it, unless they wrote or last edited it (two people see every bulletin
before the public does), except an emergency, which an approver may publish at once. An
approver withdraws at once. An account limited to some channels sees the bulletins that
touch them and changes only those that stay within them. Technicians write nothing."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

WRITERS = ("admin", "approver", "author")
APPROVERS = ("admin", "approver")


@dataclass(frozen=True)
class Officer:
    name: str
    role: str  # admin | approver | author | technician
    channels: frozenset[str] = frozenset()  # empty: every channel (an admin is never limited)

    def covers(self, channels: Iterable[str]) -> bool:
        """Every one of these channels is this officer's."""
        wanted = set(channels)
        if self.role not in WRITERS or not wanted:
            return False
        return self.role == "admin" or not self.channels or wanted <= self.channels

    def sees(self, channels: Iterable[str]) -> bool:
        if self.role not in WRITERS:
            return False
        return self.role == "admin" or not self.channels or bool(self.channels & set(channels))


@dataclass(frozen=True)
class Facts:
    """What the rules need to know of a bulletin."""

    author: str
    edited_by: str
    state: str  # draft | submitted | published | withdrawn
    priority: str
    channels: frozenset[str]
    ever_published: bool = False
    on_air: frozenset[str] = frozenset()  # the channels its approved revision is on air in


def may_write(o: Officer) -> bool:
    return o.role in WRITERS


def may_edit(o: Officer, b: Facts) -> bool:
    if not o.covers(b.channels):
        return False
    return o.role in APPROVERS or b.author == o.name


def may_submit(o: Officer, b: Facts) -> bool:
    return b.state == "draft" and may_edit(o, b)


def _approves(o: Officer, b: Facts) -> bool:
    return o.role in APPROVERS and o.covers(b.channels)


def may_publish(o: Officer, b: Facts) -> bool:
    if not _approves(o, b):
        return False
    if b.priority == "emergency" and b.state in ("draft", "submitted"):
        return True  # a flood warning does not wait for a second person
    return b.state == "submitted" and o.name not in (b.author, b.edited_by)


def may_return(o: Officer, b: Facts) -> bool:
    """Send a submitted bulletin back to its author, with a reason."""
    return b.state == "submitted" and _approves(o, b)


def may_withdraw(o: Officer, b: Facts) -> bool:
    """Taking a bulletin off air is its own action, an approver's, of every channel it is
    on air in; an edit never takes it off (the approved revision stays until its successor
    is approved)."""
    return bool(b.on_air) and o.role in APPROVERS and o.covers(b.on_air)


def may_delete(o: Officer, b: Facts) -> bool:
    """A draft never published may be thrown away by whoever may edit it; one waiting for
    approval only by an approver (an import not wanted, say), never by its author while an
    approver may be reading it; one that was published stays, for the yearly report."""
    if b.ever_published or not may_edit(o, b):
        return False
    return b.state == "draft" or (b.state == "submitted" and o.role in APPROVERS)
