"""CAP alerts and RSS/Atom feeds into bulletins waiting for an approver, needing no
retyping: a CAP alert becomes an emergency for the communes its area names, a Cancel
withdraws the alert it cancels at once; a feed's entries become text bulletins for one
channel. An alert or entry already imported creates nothing. Every bulletin made here is
checked by the board's own parser before it is saved, like the console's form."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from kiosk.core.model import ItemError, parse_item
from kiosk.core.textrules import clean_text, printable
from kiosk.province.bulletins import audit
from kiosk.province.bulletins.bulletin import authored, snapshot
from kiosk.province.bulletins.cap import Alert, match_area, parse_cap
from kiosk.province.bulletins.feeds import parse_feed
from kiosk.province.bulletins.models import Bulletin, Imported
from kiosk.province.bulletins.publishing import PublishError, announce, publish_channels
from kiosk.province.bulletins.xmlsafe import MAX_XML, XmlRefused
from kiosk.province.fleet.models import Board

log = logging.getLogger(__name__)
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
        from requests import RequestException

        from kiosk.core.httpbody import BodyRefused, TooLarge
        from kiosk.province.bulletins.outbound import OutboundRefused, fetch

        try:
            status, body = fetch(where, limit, FETCH_DEADLINE_S)
        except TooLarge as exc:  # oversized XML: exit 2, as the spec asks
            raise XmlRefused(f"{where}: {exc}") from None
        except (BodyRefused, OutboundRefused) as exc:
            raise ImportFailed(f"{where}: {exc}") from None
        except RequestException as exc:
            raise ImportFailed(f"{where}: cannot be fetched ({type(exc).__name__})") from None
        if status != 200:
            raise ImportFailed(f"{where}: HTTP {status}")
        return body
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
    text = clean_text(text)
    text = "".join(c if c == "\n" or printable(c, 2) == c else " " for c in text).strip()
    if len(text) <= most:
        return text
    cut = text[: most - 1].rsplit(" ", 1)[0]
    return cut + "…"


def _known(origin: str, ref: str) -> bool:
    """Imported before, whether its bulletin still exists or an officer deleted it."""
    return Imported.objects.filter(origin=origin, ref=ref).exists()


def _check(b: Bulletin) -> None:
    try:
        parse_item(authored(b))  # imports make text items only
    except ItemError as exc:
        raise ImportFailed(f"the bulletin would be refused by boards: {exc}") from None


def _save(b: Bulletin, now: datetime) -> None:
    """A new bulletin waiting for an approver, remembered by its origin for good."""
    b.created_at = b.updated_at = b.submitted_at = now
    b.state = "submitted"
    _check(b)
    b.save()
    Imported.objects.create(origin=b.origin, ref=b.origin_ref, bulletin=b, at=now)
    audit.record(None, "imported", b, None, snapshot(b), f"{b.origin}: {b.origin_ref}"[:500])


def _communes() -> tuple[dict[str, str], set[str]]:
    rows = Board.objects.filter(in_inventory=True).values_list(
        "commune_code", "unit_name", "province_code"
    )
    communes = {code: name for code, name, _ in rows if code}
    return communes, {p for _, _, p in rows}


def _refuse(alert: Alert, why: str) -> ImportFailed:
    """A message a province must not act on: logged, in the audit log, exit 1."""
    what = f"CAP {printable(alert.msg_type)[:20]} {printable(alert.key)}"
    log.warning("%s refused: %s", what, why)
    audit.record(None, "refused", detail=f"{what}: {why}")
    return ImportFailed(f"{alert.key}: {why}")


def _referenced(alert: Alert) -> list[Bulletin]:
    """The bulletins of the alerts a Cancel or Update references, locked (its own sender's:
    import_alert refused any other first)."""
    found = Imported.objects.filter(origin="cap", ref__in=alert.references)
    kept = found.exclude(bulletin=None).values("bulletin")
    return list(Bulletin.objects.select_for_update().filter(pk__in=kept))


def import_alert(alert: Alert, now: datetime) -> Done:
    senders = settings.KIOSK_PROVINCE.cap_senders
    if senders and alert.sender not in senders:
        raise _refuse(alert, f"sender {printable(alert.sender)[:200]} is not in cap_senders")
    # A Cancel or Update acts only on its own sender's alerts (CAP 1.2 3.2.1): one naming
    # another sender's is refused whole, before anything is changed.
    others = [ref for ref in alert.references if ref.split(",", 1)[0] != alert.sender]
    if alert.msg_type in ("Cancel", "Update") and others:
        raise _refuse(alert, f"references another sender's alert ({printable(others[0])[:200]})")
    if alert.status != "Actual":
        return Done([], [f"{alert.key}: status {alert.status or '?'}, not Actual; not shown"])
    if alert.msg_type not in ("Alert", "Update", "Cancel"):
        return Done([], [f"{alert.key}: msgType {alert.msg_type or '?'}; nothing to show"])
    if _known("cap", alert.key):
        return Done([], [])
    if alert.msg_type == "Cancel":
        return _cancel(alert, now)
    until = alert.expires
    if until is None:  # optional in CAP: a bounded life from when it was sent
        hours = settings.KIOSK_PROVINCE.cap_hours
        until = (alert.sent or now) + timedelta(hours=hours)
        if until <= now:
            sent = alert.sent.isoformat() if alert.sent else "?"
            return Done([], [f"{alert.key}: sent at {sent} with no expiry, over {hours} h ago"])
    if until <= now:
        return Done([], [f"{alert.key}: expired at {until.isoformat()}"])
    communes, provinces = _communes()
    channels: set[str] = set()
    for code in provinces:
        channels.update(match_area(alert, communes, code))
    if not channels:
        areas = "; ".join(a.description for a in alert.areas)[:200]
        raise ImportFailed(
            f"{alert.key}: its area ({printable(areas)}) matches no commune of the inventory "
            "by code or exact name; nothing was sent: an officer writes it for the communes"
        )
    title = fitted(alert.headline or alert.event or "Cảnh báo khẩn cấp", TITLE_MOST)
    body = "\n\n".join(p for p in (alert.description, alert.instruction) if p.strip())
    fields = {
        "kind": "text",
        "priority": "priority" if alert.severity == "Minor" else "emergency",
        "title": title,
        "body": fitted(body, BODY_MOST),
        "duration": 30,
        "valid_from": alert.onset if alert.onset and alert.onset > now else None,
        "valid_until": until,
        "channels": sorted(channels),
        "origin": "cap",
        "origin_ref": alert.key,
    }
    with transaction.atomic():
        earlier = _referenced(alert) if alert.msg_type == "Update" else []
        if earlier:
            return _update(alert, earlier[0], fields, now)
        b = Bulletin(**fields)
        _save(b, now)
    return Done([f"{' '.join(b.channels)}: {title}"], [])


def _update(alert: Alert, b: Bulletin, fields: dict, now: datetime) -> Done:
    """A CAP Update replaces the alert it references: a new revision of the same bulletin,
    waiting for an approver, while the revision on air stays until it is approved (one
    bulletin on air, never two)."""
    before = snapshot(b)
    for name, value in fields.items():
        setattr(b, name, value)
    b.revision += 1
    b.state, b.updated_at, b.submitted_at, b.note = "submitted", now, now, ""
    _check(b)
    b.save()
    Imported.objects.create(origin="cap", ref=alert.key, bulletin=b, at=now)
    audit.record(None, "imported", b, before, snapshot(b), f"CAP Update {alert.key}"[:500])
    return Done([f"updated {' '.join(b.channels)}: {b.title}"], [])


def _cancel(alert: Alert, now: datetime) -> Done:
    lines: list[str] = []
    changed: set[str] = set()
    with transaction.atomic():
        Imported.objects.create(origin="cap", ref=alert.key, at=now)
        for b in _referenced(alert):
            if b.state == "withdrawn":
                continue
            before = snapshot(b)
            changed.update(b.aired_channels)
            b.state, b.withdrawn_at, b.updated_at, b.aired = "withdrawn", now, now, None
            b.save()
            audit.record(None, "withdrawn", b, before, snapshot(b), f"CAP Cancel {alert.key}")
            lines.append(f"withdrawn {' '.join(b.channels)}: {b.title}")
        outcome = publish_channels(changed, now)
    announce(outcome.sequences)
    return Done(lines, [outcome.detail()] if outcome.failed else [])


def import_cap(where: str, now: datetime) -> Done:
    return import_alert(parse_cap(read_source(where)), now)


def import_feed(where: str, channel: str, now: datetime) -> Done:
    entries = parse_feed(read_source(where))
    lines: list[str] = []
    notes: list[str] = []
    with transaction.atomic():
        for entry in entries:
            if entry.alert is not None:  # a CAP feed: each alert goes where its area says
                try:
                    done = import_alert(entry.alert, now)
                except ImportFailed as exc:
                    notes.append(str(exc))
                    continue
                lines += done.lines
                notes += done.notes
                continue
            ref = f"{channel} {entry.ref}"[:500]
            if _known("feed", ref):
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
    return Done(lines, notes)


def report_import(command: BaseCommand, run: Callable[[datetime], Done]) -> None:
    """Runs an import for a management command: its lines to stdout, its notes to stderr.
    Hostile or oversized XML is a mistake of the input (exit 2); work that failed, exit 1."""
    try:
        done = run(datetime.now().astimezone())
    except XmlRefused as exc:
        raise CommandError(f"nothing imported: {exc}", returncode=2) from None
    except (ImportFailed, PublishError) as exc:
        raise CommandError(f"nothing imported: {exc}", returncode=1) from None
    for line in done.lines:
        command.stdout.write(line)
    for note in done.notes:
        command.stderr.write(f"note: {note}")
