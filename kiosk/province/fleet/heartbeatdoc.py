"""A board's heartbeat body (SPEC 1.6), checked before anything of it is stored, pure.

The body comes from the network and is an attacker's until proven otherwise: every field the
server keeps is checked for type, shape and size here, and anything else is refused with a
message that names the field (bounded, so an echo cannot be a megabyte). The health document
is kept as sent, once it has the shape SPEC 3.2 gives and is small enough.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kiosk.core.model import CHANNEL_NAME, ITEM_ID
from kiosk.core.textrules import shown, text_problem
from kiosk.core.timeutil import parse_rfc3339

MAX_BODY = 1024 * 1024  # SPEC 7.3: more is 413
MAX_HEALTH = 64 * 1024  # a real health document is a few KB
MAX_PLAYS = 2000  # a board sends batches of 500
MAX_PROBLEMS = 64
MAX_DONE = 32
MAX_TITLE = 300
MAX_SCREENSHOT = 200 * 1024  # SPEC 1.6: a JPEG of at most 200 KiB
# SPEC 7.4: a play is stored only if it started at most PLAYS_AHEAD after the server's clock
# and at most PLAYS_BEHIND before it, and lasted 0 to MAX_PLAY_SECONDS; others are counted
MAX_PLAY_SECONDS = 3600.0
PLAYS_AHEAD = timedelta(minutes=10)
PLAYS_BEHIND = timedelta(days=35)
STATUSES = ("ok", "degraded", "failing")
_PROBLEM_CODE = re.compile(r"^[a-z][a-z0-9_]{0,63}\Z")
_COMMAND_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}\Z")
_VERSION = re.compile(r"^[0-9A-Za-z.+!_-]{1,64}\Z")  # a PEP 440 version's characters
SOFTWARE_STATES = ("idle", "downloading", "staged", "trial", "rolled_back")  # SPEC 3.2
MAX_FAILED_VERSIONS = 50


class HeartbeatInvalid(ValueError):
    """Not a heartbeat document: the message names the field (HTTP 400)."""


@dataclass(frozen=True)
class Play:
    channel: str
    item: str
    started_at: datetime
    duration_s: float


@dataclass(frozen=True)
class Software:
    """What the rollout page counts of a board (SPEC 3.2 `software`)."""

    version: str  # the release that runs
    state: str  # one of SOFTWARE_STATES
    target: str  # the release it is moving to, or ""
    failed: tuple[str, ...]  # the releases it rolled back from, never to be tried again


@dataclass(frozen=True)
class Heartbeat:
    device_id: str
    sent_at: datetime
    status: str
    problems: tuple[str, ...]  # the problem codes, in the board's order
    current_item: tuple[str, str] | None
    current_title: str | None  # the board's name for it (its title), when it sent a sane one
    health: dict[str, Any]
    plays: tuple[Play, ...]
    done: tuple[str, ...]
    screenshot: bytes | None  # a JPEG, when one was asked for and sent well-formed
    screenshot_refused: str | None = None  # why a screenshot that came was not kept
    plays_malformed: int = 0  # play records that were not plays at all (skipped, counted)
    software: Software | None = None  # None: a board of a release before updates, or garbled


def _object(value: Any, where: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise HeartbeatInvalid(f"{where} must be an object")
    return value


def _list(value: Any, where: str, most: int) -> list[Any]:
    if not isinstance(value, list):
        raise HeartbeatInvalid(f"{where} must be an array")
    if len(value) > most:
        raise HeartbeatInvalid(f"{where} has {len(value)} entries; at most {most}")
    return value


def _name(value: Any, pattern: re.Pattern[str], where: str) -> str:
    if not isinstance(value, str) or not pattern.match(value):
        raise HeartbeatInvalid(f"{where} is not valid: {shown(value)}")
    return value


def _time(value: Any, where: str) -> datetime:
    try:
        moment = parse_rfc3339(value)
    except (ValueError, TypeError):
        raise HeartbeatInvalid(f"{where} is not an RFC 3339 time: {shown(value)}") from None
    if not 2000 <= moment.year <= 2999:
        raise HeartbeatInvalid(f"{where} is outside the years 2000 to 2999")
    return moment


def _play(raw: Any, n: int) -> Play | None:
    """One play record, or None when it is not one: a bad record costs only itself, never
    the heartbeat that carries it (nor the plays beside it)."""
    where = f"plays[{n}]"
    try:
        p = _object(raw, where)
        duration = p.get("duration_s")
        if (
            isinstance(duration, bool)
            or not isinstance(duration, int | float)
            or not math.isfinite(duration)
        ):
            raise HeartbeatInvalid(f"{where}.duration_s must be a number of seconds")
        return Play(
            channel=_name(p.get("channel"), CHANNEL_NAME, f"{where}.channel"),
            item=_name(p.get("item"), ITEM_ID, f"{where}.item"),
            started_at=_time(p.get("started_at"), f"{where}.started_at"),
            duration_s=float(duration),
        )
    except HeartbeatInvalid:
        return None


def storable(plays: tuple[Play, ...], now: datetime) -> tuple[list[Play], int]:
    """The plays a server stores (SPEC 7.4), and how many it does not: a board whose clock
    ran years ahead, or a play of a day, must not fill the tables nor escape the fold into
    daily sums."""
    kept = [
        p
        for p in plays
        if now - PLAYS_BEHIND <= p.started_at <= now + PLAYS_AHEAD
        and 0 <= p.duration_s <= MAX_PLAY_SECONDS
    ]
    return kept, len(plays) - len(kept)


def _current_item(health: dict[str, Any]) -> tuple[str, str] | None:
    display = health.get("display")
    if display is None:
        return None
    current = _object(display, "health.display").get("current_item")
    if current is None:
        return None
    c = _object(current, "health.display.current_item")
    return (
        _name(c.get("channel"), CHANNEL_NAME, "health.display.current_item.channel"),
        _name(c.get("id"), ITEM_ID, "health.display.current_item.id"),
    )


def _current_title(health: dict[str, Any]) -> str | None:
    current = (health.get("display") or {}).get("current_item") or {}
    title = current.get("title")
    if isinstance(title, str) and 0 < len(title) <= MAX_TITLE and not text_problem(title):
        return title
    return None


def _problem_codes(health: dict[str, Any]) -> tuple[str, ...]:
    """The problem codes, each once, at most MAX_PROBLEMS: a board sending more (an older
    board, or one sent a manifest of many bad items) or a malformed entry is trimmed, never
    refused whole, so it never goes "offline" for what it reports."""
    raw = health.get("problems")
    if not isinstance(raw, list):
        raise HeartbeatInvalid("health.problems must be an array")
    codes: dict[str, None] = {}
    for problem in raw[: MAX_PROBLEMS * 16]:
        code = problem.get("code") if isinstance(problem, dict) else None
        if isinstance(code, str) and _PROBLEM_CODE.match(code):
            codes[code] = None
            if len(codes) == MAX_PROBLEMS:
                break
    return tuple(codes)


def _version(value: Any) -> str | None:
    return value if isinstance(value, str) and _VERSION.match(value) else None


def _software(health: dict[str, Any]) -> Software | None:
    """The software block, or None when there is none (a board older than updates) or it is
    not well-formed: it is then not counted, but the heartbeat and its plays are stored."""
    block = health.get("software")
    if not isinstance(block, dict):
        return None
    version, state = _version(block.get("version")), block.get("state")
    failed = block.get("failed_versions", [])
    if version is None or state not in SOFTWARE_STATES or not isinstance(failed, list):
        return None
    failed_ok = [v for v in failed[:MAX_FAILED_VERSIONS] if _version(v)]
    target = _version(block.get("target")) or ""
    return Software(version, state, target, tuple(dict.fromkeys(failed_ok)))


def _screenshot(value: Any) -> tuple[bytes | None, str | None]:
    """A JPEG of at most 200 KiB, or why not. A bad screenshot costs only itself: the plays
    in the same body are still stored."""
    if value is None:
        return None, None
    if not isinstance(value, str) or len(value) > (MAX_SCREENSHOT * 4) // 3 + 4:
        return None, "the screenshot is larger than 200 KiB"
    try:
        data = base64.b64decode(value, validate=True)
    except (binascii.Error, ValueError):
        return None, "the screenshot is not base64"
    if len(data) > MAX_SCREENSHOT:
        return None, "the screenshot is larger than 200 KiB"
    if not data.startswith(b"\xff\xd8\xff"):
        return None, "the screenshot is not a JPEG"
    return data, None


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not JSON")


def _utf8(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def parse_heartbeat(body: bytes, device_id: str) -> Heartbeat:
    """The checked heartbeat of device_id (from the URL), or HeartbeatInvalid."""
    try:
        doc = json.loads(body, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise HeartbeatInvalid("the body is not JSON") from None
    doc = _object(doc, "the body")
    if doc.get("device_id") != device_id:
        raise HeartbeatInvalid(f"device_id {shown(doc.get('device_id'))} is not this board's")
    health = _object(doc.get("health"), "health")
    kept = json.dumps(health, ensure_ascii=False)
    if len(kept) > MAX_HEALTH:
        raise HeartbeatInvalid(f"health is larger than {MAX_HEALTH // 1024} KiB")
    # What no database keeps as JSON text: NUL, and lone surrogates (not UTF-8)
    if "\\u0000" in kept or not _utf8(kept):
        raise HeartbeatInvalid("health holds a NUL character or a lone surrogate")
    status = health.get("status")
    if status not in STATUSES:
        raise HeartbeatInvalid(f"health.status must be ok, degraded or failing: {shown(status)}")
    done = doc.get("done", [])
    screenshot, refused = _screenshot(doc.get("screenshot"))
    plays = [_play(p, n) for n, p in enumerate(_list(doc.get("plays"), "plays", MAX_PLAYS))]
    return Heartbeat(
        device_id=device_id,
        sent_at=_time(doc.get("sent_at"), "sent_at"),
        status=status,
        problems=_problem_codes(health),
        current_item=_current_item(health),
        current_title=_current_title(health) if _current_item(health) else None,
        health=health,
        plays=tuple(p for p in plays if p is not None),
        plays_malformed=sum(p is None for p in plays),
        done=tuple(
            _name(d, _COMMAND_ID, f"done[{n}]") for n, d in enumerate(_list(done, "done", MAX_DONE))
        ),
        screenshot=screenshot,
        screenshot_refused=refused,
        software=_software(health),
    )
