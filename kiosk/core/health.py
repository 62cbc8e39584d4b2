"""A board's health (SPEC 3.2 and 3.3), from what its parts report.

Pure: the parts' figures and the time come in as a `Readings`; the problems, the status
and the /health document come out. The adapters (health server, heartbeat, status LED)
only gather readings and show the result.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

STALL_S = 10.0  # the frame loop turns at least every 0.25 s; 10 s without a turn is a hang
OVERHEAT_C = 80.0  # the Pi's firmware starts throttling at 80 °C
STALE_POLLS = 3  # a sync older than three poll intervals is stale
PROBLEM_CODES = (  # SPEC 3.3, in its order
    "no_content",
    "sync_failing",
    "signature_invalid",
    "rollback_rejected",
    "manifest_invalid",
    "manifest_expired",
    "item_invalid",
    "asset_invalid",
    "clock_unsynced",
    "disk_low",
    "overheating",
    "undervoltage",
    "display_stalled",
    "heartbeat_failing",
    "door_open",
    "update_failed",
)
FAILING_CODES = frozenset({"no_content", "display_stalled"})
# Bits of the firmware's get_throttled: now (0-3) and since boot (16-19).
UNDERVOLTAGE_NOW, THROTTLED_NOW = 0x1, 0x4
UNDERVOLTAGE_SINCE_BOOT = 0x10000


@dataclass(frozen=True)
class Problem:
    code: str
    message: str
    channel: str = ""  # the channel it belongs to, when it belongs to one


MAX_PROBLEMS = 32  # SPEC 3.2: one entry per code and channel, at most this many
MESSAGE_MOST = 400  # characters of one entry's message
FIRST_FEW = 3


def _bounded(message: str) -> str:
    return message if len(message) <= MESSAGE_MOST else message[: MESSAGE_MOST - 1] + "…"


def grouped(problems: list[Problem]) -> list[Problem]:
    """The problems as /health lists them (SPEC 3.2): one entry per code and channel, whose
    message says how many it covers and gives the first few, at most MAX_PROBLEMS entries
    (those that make a board failing first), each message bounded. A manifest of 70 bad
    items is one item_invalid, not 70: the document stays far inside every bound the
    province sets, whatever a board was sent."""
    groups: dict[tuple[str, str], list[Problem]] = {}
    for p in problems:
        groups.setdefault((p.code, p.channel), []).append(p)
    out = []
    for (code, channel), same in groups.items():
        if len(same) == 1:
            out.append(Problem(code, _bounded(same[0].message), channel))
            continue
        first = "; ".join(p.message for p in same[:FIRST_FEW])
        more = " …" if len(same) > FIRST_FEW else ""
        where = f"{channel}: " if channel else ""
        message = f"{where}{len(same)} problems of this kind; the first: {first}{more}"
        out.append(Problem(code, _bounded(message), channel))
    out.sort(key=lambda p: p.code not in FAILING_CODES)  # stable: failing ones kept first
    return out[:MAX_PROBLEMS]


@dataclass(frozen=True)
class Readings:
    """Everything health needs to know, gathered at one moment."""

    now: datetime
    display_state: str = "on"  # "on", "off_scheduled" or "blank"
    items_active: int = 0
    emergency: bool = False
    loop_age_s: float | None = None  # since the frame loop last turned; None before it starts
    content_problems: tuple[Problem, ...] = ()  # from the sync report and the player
    sync_failures: int = 0
    last_sync_success: datetime | None = None
    poll_s: float = 300.0
    cpu_temp_c: float | None = None
    throttled: int | None = None  # the firmware's flags, where the board has them
    disk_free_mb: float | None = None
    disk_reserve_mb: float = 256.0
    heartbeat_failures: int = 0
    door_open: bool | None = None
    started_at: datetime | None = None
    update_failure: str | None = None  # the updater's last failure (SPEC 3.3 update_failed)


def _sync_failing(r: Readings) -> list[Problem]:
    """sync_failing once syncs have failed for STALE_POLLS polls (one failure is weather),
    one per channel that failed, each naming the channel and why (a 404 for a channel never
    published, no connection, a timeout), so a technician knows where to look."""
    since = r.last_sync_success or r.started_at
    if r.sync_failures >= STALE_POLLS:
        how_long = f"{r.sync_failures} syncs in a row have failed"
    elif since is not None and (r.now - since).total_seconds() > STALE_POLLS * r.poll_s:
        how_long = f"no good sync for {(r.now - since).total_seconds():.0f} s"
    else:
        return []
    channels = [p for p in r.content_problems if p.code == "sync_failing"]
    if not channels:
        return [Problem("sync_failing", how_long)]
    return [Problem(p.code, f"{p.message} ({how_long})", p.channel) for p in channels]


def find_problems(r: Readings) -> list[Problem]:
    """What is wrong now, each with a message a technician can act on."""
    found: list[Problem] = []
    if r.loop_age_s is not None and r.loop_age_s > STALL_S:
        found.append(
            Problem("display_stalled", f"the display loop has not turned for {r.loop_age_s:.0f} s")
        )
    if r.items_active == 0 and r.display_state != "off_scheduled":
        found.append(
            Problem("no_content", "nothing to show: the screen shows only the unit's name and time")
        )
    found.extend(_sync_failing(r))
    found.extend(p for p in r.content_problems if p.code != "sync_failing")
    if r.disk_free_mb is not None and r.disk_free_mb < r.disk_reserve_mb:
        found.append(
            Problem("disk_low", f"{r.disk_free_mb:.0f} MB free, under {r.disk_reserve_mb:.0f} MB")
        )
    if r.cpu_temp_c is not None and r.cpu_temp_c >= OVERHEAT_C:
        found.append(Problem("overheating", f"the CPU is at {r.cpu_temp_c:.0f} °C"))
    if r.throttled is not None and r.throttled & (UNDERVOLTAGE_NOW | UNDERVOLTAGE_SINCE_BOOT):
        now = "now" if r.throttled & UNDERVOLTAGE_NOW else "since boot"
        found.append(Problem("undervoltage", f"the power supply sagged ({now}): check it"))
    if r.heartbeat_failures >= STALE_POLLS:
        found.append(
            Problem("heartbeat_failing", f"{r.heartbeat_failures} heartbeats in a row failed")
        )
    if r.door_open:
        found.append(Problem("door_open", "the cabinet door is open"))
    if r.update_failure:
        found.append(Problem("update_failed", r.update_failure))
    return list(dict.fromkeys(found))  # each once, in order


def status_of(problems: list[Problem]) -> str:
    """failing: the screen shows nothing useful or the loop hangs; any other problem degrades."""
    if any(p.code in FAILING_CODES for p in problems):
        return "failing"
    return "degraded" if problems else "ok"


@dataclass
class ProblemLog:
    """When each current problem began, so /health can say `since`. Holds only the problems
    of the last assessment: bounded by what can be wrong at once."""

    since: dict[tuple[str, str], datetime] = field(default_factory=dict)

    def update(self, problems: list[Problem], now: datetime) -> list[tuple[Problem, datetime]]:
        """Keyed by code and channel: a grouped problem whose count changes is the same
        problem, since the first time."""
        self.since = {(p.code, p.channel): self.since.get((p.code, p.channel), now)
                      for p in problems}  # fmt: skip
        return [(p, self.since[(p.code, p.channel)]) for p in problems]


def rfc3339(moment: datetime | None) -> str | None:
    return moment.isoformat(timespec="seconds") if moment is not None else None


def health_document(
    status: str, problems: list[tuple[Problem, datetime]], parts: Mapping[str, Any]
) -> dict[str, Any]:
    """The /health JSON of SPEC 3.2: status and problems first, then each part's section."""
    return {
        "status": status,
        "problems": [
            {"code": p.code, "message": p.message, "since": rfc3339(since)} for p, since in problems
        ],
        **parts,
    }


def one_line(doc: Mapping[str, Any]) -> str:
    """The document in one line, for systemd's STATUS= (what `systemctl status` shows)."""
    current = doc["display"]["current_item"]
    showing = f"{current['channel']}/{current['id']}" if current else "nothing"
    codes = sorted({p["code"] for p in doc["problems"]})
    problems = f"; problems: {', '.join(codes)}" if codes else ""
    return (
        f"{doc['status']}: showing {showing}, {doc['content']['items_active']} items active"
        f"{problems}"
    )
