"""RSS 2.0 and Atom feeds (a commune's own website) read into entries for draft text
bulletins. Pure: bytes in, entries out. The XML is hostile input (kiosk.province.xmlsafe);
the HTML inside descriptions is read for its text only, through the standard library's
HTML parser, and nothing of its markup survives."""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser

from kiosk.province.xmlsafe import XmlRefused, child, children, local, parse_xml, text_of

MAX_ENTRIES = 50  # the newest; a feed that lists thousands is cut here
BLOCKS = {"p", "div", "br", "li", "h1", "h2", "h3", "h4", "h5", "h6", "tr", "blockquote"}


@dataclass(frozen=True)
class Entry:
    ref: str  # guid, id or link: how a second run knows it already has the entry
    title: str
    text: str


class _Text(HTMLParser):
    """Text of an HTML fragment, with a paragraph break at each block element; scripts and
    styles dropped."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag: str, attrs) -> None:
        if tag in ("script", "style"):
            self.skipping += 1
        elif tag in BLOCKS:
            self.parts.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style") and self.skipping:
            self.skipping -= 1
        elif tag in BLOCKS:
            self.parts.append("\n\n")

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.parts.append(data)


def html_text(fragment: str) -> str:
    parser = _Text()
    parser.feed(fragment)
    parser.close()
    paragraphs = ("".join(parser.parts)).split("\n\n")
    return "\n\n".join(" ".join(p.split()) for p in paragraphs if p.split())


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


def _atom(feed) -> list[Entry]:
    entries = []
    for entry in children(feed, "entry")[:MAX_ENTRIES]:
        link = child(entry, "link")
        href = link.get("href", "") if link is not None else ""
        ref = text_of(entry, "id").strip() or href or text_of(entry, "title").strip()
        body = text_of(entry, "summary") or text_of(entry, "content")
        entries.append(Entry(ref[:400], html_text(text_of(entry, "title")), html_text(body)))
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
    return [e for e in found if e.ref and (e.title or e.text)]
