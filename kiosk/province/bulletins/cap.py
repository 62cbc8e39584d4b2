"""OASIS CAP 1.2 alerts (the standard for public warnings that WMO recommends) read into
what the console needs: an emergency bulletin's text, its expiry, its area, and which
earlier alerts a Cancel withdraws. Pure: bytes in, an Alert out; the XML is hostile input
(kiosk.province.bulletins.xmlsafe)."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime
from xml.etree.ElementTree import Element

from kiosk.core.timeutil import parse_rfc3339
from kiosk.province.bulletins.htmltext import html_text
from kiosk.province.bulletins.targets import commune_channel, province_channel
from kiosk.province.bulletins.xmlsafe import XmlRefused, children, local, parse_xml, text_of

# CAP 1.2, and 1.1 (most of the US weather service's alerts), whose elements are the same
# for all a board shows
CAP_NAMESPACES = ("urn:oasis:names:tc:emergency:cap:1.2", "urn:oasis:names:tc:emergency:cap:1.1")
_MARKUP = re.compile(r"</?[A-Za-z][A-Za-z0-9]*(\s[^<>]*)?/?>")
MAX_CAP = 1024 * 1024
MAX_AREAS = 200


@dataclass(frozen=True)
class Area:
    description: str
    geocodes: tuple[str, ...]  # the values, whatever their valueName


@dataclass(frozen=True)
class Alert:
    key: str  # "sender,identifier": how CAP references an alert
    sender: str
    status: str  # Actual | Exercise | System | Test | Draft
    msg_type: str  # Alert | Update | Cancel | Ack | Error
    references: tuple[str, ...]  # "sender,identifier" of earlier alerts
    sent: datetime | None
    event: str
    severity: str
    headline: str
    description: str
    instruction: str
    onset: datetime | None
    expires: datetime | None
    areas: tuple[Area, ...]


def _time(value: str, what: str) -> datetime | None:
    value = value.strip()
    if not value:
        return None
    try:
        return parse_rfc3339(value)
    except ValueError as exc:
        raise XmlRefused(f"CAP {what}: {exc}") from None


def _info(alert) -> object | None:
    """The Vietnamese <info> block when there is one, else the first."""
    infos = children(alert, "info")
    for info in infos:
        if text_of(info, "language").strip().lower().startswith("vi"):
            return info
    return infos[0] if infos else None


def is_cap(element: Element) -> bool:
    return local(element.tag) == "alert" and any(
        element.tag.startswith("{" + ns + "}") for ns in CAP_NAMESPACES
    )


def plain(text: str) -> str:
    """Text a sender may have written as HTML (fire services put <br /> in descriptions)
    as plain text; text with no markup is kept as written, line breaks and all."""
    return html_text(text) if _MARKUP.search(text) else text.strip()


def parse_cap(data: bytes) -> Alert:
    root = parse_xml(data, "CAP alert", MAX_CAP)
    if local(root.tag) == "alert" and root.tag.startswith("{urn:oasis:names:tc:emergency:cap:"):
        version = root.tag[1:].split("}")[0].rsplit(":", 1)[-1]
        if not is_cap(root):
            raise XmlRefused(f"a CAP {version[:10]} alert: only CAP 1.2 and 1.1 are read")
    if not is_cap(root):
        raise XmlRefused(f"not a CAP alert (the root is {local(root.tag)[:40]!r})")
    return alert_from(root)


def alert_from(root: Element) -> Alert:
    """The alert of a CAP <alert> element (a file's root, or inside a feed's entry)."""
    sender, identifier = text_of(root, "sender").strip(), text_of(root, "identifier").strip()
    if not sender or not identifier:
        raise XmlRefused("CAP alert without sender or identifier")
    references = tuple(
        ",".join(ref.split(",")[:2]) for ref in text_of(root, "references").split() if ref
    )
    info = _info(root)
    areas: list[Area] = []
    if info is not None:
        for area in children(info, "area")[:MAX_AREAS]:
            codes = tuple(text_of(g, "value").strip() for g in children(area, "geocode"))
            areas.append(Area(" ".join(text_of(area, "areaDesc").split()), codes))
    get = (lambda name: text_of(info, name)) if info is not None else (lambda name: "")
    return Alert(
        key=f"{sender},{identifier}"[:500],
        sender=sender[:400],
        status=text_of(root, "status").strip(),
        msg_type=text_of(root, "msgType").strip(),
        references=references,
        sent=_time(text_of(root, "sent"), "sent"),
        event=" ".join(get("event").split()),
        severity=get("severity").strip(),
        headline=" ".join(plain(get("headline")).split()),
        description=plain(get("description")),
        instruction=plain(get("instruction")),
        onset=_time(get("onset") or get("effective"), "onset"),
        expires=_time(get("expires"), "expires"),
        areas=tuple(areas),
    )


_UNIT_WORDS = re.compile(r"^(ubnd|ủy ban nhân dân|uỷ ban nhân dân)\s+", re.IGNORECASE)
_AREA_PARTS = re.compile(r"[,;|\n]")


def unit_words(name: str) -> str:
    """A unit's name as an area description would say it, normalised (NFC, one space,
    casefolded): "UBND xã Tân Trào" is "xã tân trào"."""
    name = unicodedata.normalize("NFC", " ".join(name.split()))
    return _UNIT_WORDS.sub("", name).casefold()


def named_areas(description: str) -> set[str]:
    """The names an areaDesc lists ("Xã Tân Trào, xã Hợp Thành"), each normalised."""
    return {unit_words(part) for part in _AREA_PARTS.split(description) if part.strip()}


def match_area(alert: Alert, communes: dict[str, str], province_code: str) -> tuple[str, ...]:
    """The channels the alert's areas name, of the communes the inventory has (code -> unit
    name): by exact geocode first (a 5-digit commune code of Decision 19/2025/QĐ-TTg, or
    the province's 2-digit code for the province's channel), else by a commune's exact
    normalised name in an area description, never by a part of one: "xã Tân" does not
    reach "xã Tân Trào" (SPEC 7.4). Nothing matched: empty, never a wider broadcast."""
    found: set[str] = set()
    for area in alert.areas:
        for code in area.geocodes:
            if code in communes:
                found.add(commune_channel(code))
            elif code == province_code:
                found.add(province_channel(code))
    if found:
        return tuple(sorted(found))
    named: set[str] = set()
    for area in alert.areas:
        named |= named_areas(area.description)
    for code, name in communes.items():
        if unit_words(name) in named:
            found.add(commune_channel(code))
    return tuple(sorted(found))
