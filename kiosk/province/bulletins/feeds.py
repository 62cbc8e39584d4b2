"""RSS 2.0 and Atom feeds (a commune's own website) read into entries for draft text
bulletins. Pure: bytes in, entries out. The XML is hostile input (kiosk.province.bulletins.xmlsafe);
the HTML inside descriptions is read for its text only, through the standard library's
HTML parser, and nothing of its markup survives."""

from __future__ import annotations

from dataclasses import dataclass

from kiosk.province.bulletins.cap import Alert, alert_from, is_cap
from kiosk.province.bulletins.htmltext import html_text
from kiosk.province.bulletins.xmlsafe import XmlRefused, child, children, local, parse_xml, text_of

MAX_ENTRIES = 50  # the newest; a feed that lists thousands is cut here


@dataclass(frozen=True)
class Entry:
    ref: str  # guid, id or link: how a second run knows it already has the entry
    title: str
    text: str
    alert: Alert | None = None  # a CAP alert the entry carries (a CAP feed): imported as CAP


def _rss(channel) -> list[Entry]:
    entries = []
    for item in children(channel, "item")[:MAX_ENTRIES]:
        link = text_of(item, "link").strip()
        ref = text_of(item, "guid").strip() or link or text_of(item, "title").strip()
        entries.append(
            Entry(ref[:400], html_text(text_of(item, "title")),
                  html_text(text_of(item, "description")))
        )  # fmt: skip
    return entries


def _alert_in(markup: list) -> Alert | None:
    """The CAP alert an entry's XML content carries; one that cannot be read costs only
    itself (the entry stays, as text), never the feed."""
    for element in markup:
        if is_cap(element):
            try:
                return alert_from(element)
            except XmlRefused:
                return None
    return None


def _atom(feed) -> list[Entry]:
    entries = []
    for entry in children(feed, "entry")[:MAX_ENTRIES]:
        link = child(entry, "link")
        href = link.get("href", "") if link is not None else ""
        ref = text_of(entry, "id").strip() or href or text_of(entry, "title").strip()
        content = child(entry, "content")
        markup = list(content) if content is not None else []  # XML content: elements
        alert = _alert_in(markup)
        # XML content is not text: every element's text joined would put a signature's
        # digests on the screen. Such an entry's text is its summary alone.
        body = text_of(entry, "summary") or ("" if markup else text_of(content))
        title = html_text(text_of(entry, "title"))
        entries.append(Entry(ref[:400], title, html_text(body), alert))
    return entries


def parse_feed(data: bytes) -> list[Entry]:
    """The feed's entries, newest first as feeds list them, each with a reference."""
    root = parse_xml(data, "feed")
    kind = local(root.tag)
    if kind == "rss":
        channel = child(root, "channel")
        if channel is None:
            raise XmlRefused("RSS feed without a <channel>")
        found = _rss(channel)
    elif kind == "feed":
        found = _atom(root)
    else:
        raise XmlRefused(f"neither RSS nor Atom (the root is {kind[:40]!r})")
    return [e for e in found if e.ref and (e.title or e.text or e.alert)]
