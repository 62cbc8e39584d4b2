"""CAP alerts and RSS/Atom feeds into bulletins waiting for an approver, needing no
retyping: a CAP alert becomes an emergency for the communes its area names, a Cancel
withdraws the alert it cancels at once; a feed's entries become text bulletins for one
channel. An alert or entry already imported creates nothing. Every bulletin made here is
checked by the board's own parser before it is saved, like the console's form."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import urlsplit

from django.db import transaction

from kiosk.core.model import ItemError, nfc, parse_item
from kiosk.core.textrules import printable
from kiosk.province.cap import Alert, match_area, parse_cap
from kiosk.province.feeds import parse_feed
from kiosk.province.server import audit
from kiosk.province.server.bulletins import authored, snapshot
from kiosk.province.server.models import Board, Bulletin
from kiosk.province.server.publishing import announce, publish_channels
from kiosk.province.xmlsafe import MAX_XML, XmlRefused

FETCH_DEADLINE_S = 30.0
TITLE_MOST, BODY_MOST = 200, 5000


class ImportFailed(Exception):
    """The work could not be done (unreachable URL, an area matching no commune): exit 1."""


@dataclass(frozen=True)
class Done:
    lines: list[str]  # one per bulletin created or withdrawn, for the officer
    notes: list[str]  # what was skipped and why


def read_source(where: str, limit: int = MAX_XML) -> bytes:
    """A file, or an http(s) URL, read at most limit+1 bytes and by a deadline; XmlRefused
    when larger than limit."""
    if urlsplit(where).scheme in ("http", "https"):
        import requests

        from kiosk.core.httpbody import IDENTITY, BodyRefused, TooLarge, read_body

        try:
            with requests.Session() as session, session.get(
                where, headers=IDENTITY, timeout=(10, 20), stream=True, allow_redirects=True
            ) as answer:  # fmt: skip
                if answer.status_code != 200:
                    raise ImportFailed(f"{where}: HTTP {answer.status_code}")
                return read_body(answer, limit, time.monotonic() + FETCH_DEADLINE_S)
        except TooLarge as exc:  # oversized XML: exit 2, as the spec asks
            raise XmlRefused(f"{where}: {exc}") from None
        except BodyRefused as exc:
            raise ImportFailed(f"{where}: {exc}") from None
        except requests.RequestException as exc:
            raise ImportFailed(f"{where}: cannot be fetched ({type(exc).__name__})") from None
    try:
        with Path(where).open("rb") as f:
            data = f.read(limit + 1)
    except OSError as exc:
        raise ImportFailed(f"{where}: cannot be read ({exc.strerror})") from None
    if len(data) > limit:
        raise XmlRefused(f"{where}: larger than {limit} bytes")
    return data


def fitted(text: str, most: int) -> str:
    """Hostile text made showable: control characters become spaces (newlines kept), NFC,
    at most `most` characters (cut at a word, with an ellipsis)."""
    text = "".join(c if c == "\n" or printable(c, 2) == c else " " for c in text)
    text = nfc(text).strip()
    if len(text) <= most:
        return text
    cut = text[: most - 1].rsplit(" ", 1)[0]
    return cut + "…"


def _save(b: Bulletin, now: datetime) -> None:
    b.created_at = b.updated_at = b.submitted_at = now
    b.state = "submitted"
    b.save()
    try:
        parse_item(authored(b))  # imports make text items only
    except ItemError as exc:
        raise ImportFailed(f"the bulletin would be refused by boards: {exc}") from None
    audit.record(None, "imported", b, None, snapshot(b), f"{b.origin}: {b.origin_ref}"[:500])


def _communes() -> tuple[dict[str, str], set[str]]:
    rows = Board.objects.filter(in_inventory=True).values_list(
        "commune_code", "unit_name", "province_code"
    )
    communes = {code: name for code, name, _ in rows if code}
    return communes, {p for _, _, p in rows}


def import_alert(alert: Alert, now: datetime) -> Done:
    if alert.status != "Actual":
        return Done([], [f"{alert.key}: status {alert.status or '?'}, not Actual; not shown"])
    if alert.msg_type == "Cancel":
        return _cancel(alert, now)
    if alert.msg_type not in ("Alert", "Update"):
        return Done([], [f"{alert.key}: msgType {alert.msg_type or '?'}; nothing to show"])
    if Bulletin.objects.filter(origin="cap", origin_ref=alert.key).exists():
        return Done([], [])
    if alert.expires is not None and alert.expires <= now:
        return Done([], [f"{alert.key}: expired at {alert.expires.isoformat()}"])
    communes, provinces = _communes()
    channels: set[str] = set()
    for code in provinces:
        channels.update(match_area(alert, communes, code))
    if not channels:
        areas = "; ".join(a.description for a in alert.areas)[:200]
        raise ImportFailed(
            f"{alert.key}: its area ({printable(areas)}) matches no commune of the inventory"
        )
    title = fitted(alert.headline or alert.event or "Cảnh báo khẩn cấp", TITLE_MOST)
    body = "\n\n".join(p for p in (alert.description, alert.instruction) if p.strip())
    valid_from = alert.onset if alert.onset and alert.onset > now else None
    b = Bulletin(
        kind="text",
        priority="priority" if alert.severity == "Minor" else "emergency",
        title=title,
        body=fitted(body, BODY_MOST),
        duration=30,
        valid_from=valid_from,
        valid_until=alert.expires,
        channels=sorted(channels),
        origin="cap",
        origin_ref=alert.key,
    )
    with transaction.atomic():
        _save(b, now)
    return Done([f"{' '.join(b.channels)}: {title}"], [])


def _cancel(alert: Alert, now: datetime) -> Done:
    lines: list[str] = []
    changed: set[str] = set()
    with transaction.atomic():
        earlier = Bulletin.objects.select_for_update().filter(
            origin="cap", origin_ref__in=alert.references
        )
        for b in earlier:
            if b.state == "withdrawn":
                continue
            before = snapshot(b)
            if b.state == "published":
                changed.update(b.channels)
            b.state, b.withdrawn_at, b.updated_at = "withdrawn", now, now
            b.save()
            audit.record(None, "withdrawn", b, before, snapshot(b), f"CAP Cancel {alert.key}")
            lines.append(f"withdrawn {' '.join(b.channels)}: {b.title}")
        sequences = publish_channels(changed, now)
    announce(sequences)
    return Done(lines, [])


def import_cap(where: str, now: datetime) -> Done:
    return import_alert(parse_cap(read_source(where)), now)


def import_feed(where: str, channel: str, now: datetime) -> Done:
    entries = parse_feed(read_source(where))
    lines: list[str] = []
    with transaction.atomic():
        for entry in entries:
            ref = f"{channel} {entry.ref}"[:500]
            if Bulletin.objects.filter(origin="feed", origin_ref=ref).exists():
                continue
            title = fitted(entry.title, TITLE_MOST)
            b = Bulletin(
                kind="text",
                priority="normal",
                title=title,
                body=fitted(entry.text, BODY_MOST),
                duration=20,
                channels=[channel],
                origin="feed",
                origin_ref=ref,
            )
            _save(b, now)
            lines.append(f"{channel}: {title or b.body[:80]}")
    return Done(lines, [])
