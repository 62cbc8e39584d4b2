"""XML from outside the province (CAP alerts, RSS and Atom feeds) parsed as hostile input:
bounded in size, no DTD at all (so no entity expansion and no external entity), through
defusedxml. One message per refusal, fit for an officer or a log."""

from __future__ import annotations

from xml.etree.ElementTree import Element, ParseError

import defusedxml.ElementTree as SafeTree
from defusedxml import DefusedXmlException

MAX_XML = 2 * 1024 * 1024  # a CAP alert is a few KB, a feed rarely over 500 KB


class XmlRefused(ValueError):
    """Hostile, oversized or malformed XML: nothing is taken from it."""


def parse_xml(data: bytes, what: str, limit: int = MAX_XML) -> Element:
    if len(data) > limit:
        raise XmlRefused(f"{what}: {len(data)} bytes; at most {limit} are read")
    try:
        return SafeTree.fromstring(data, forbid_dtd=True, forbid_entities=True,
                                   forbid_external=True)  # fmt: skip
    except DefusedXmlException as exc:
        raise XmlRefused(f"{what}: refused ({type(exc).__name__}: a DTD or entities)") from None
    except (ParseError, ValueError) as exc:
        raise XmlRefused(f"{what}: not well-formed XML ({exc})") from None
    except RecursionError:
        raise XmlRefused(f"{what}: nested too deeply") from None


def local(tag: str) -> str:
    """A tag without its namespace: {urn:…}alert is alert."""
    return tag.rsplit("}", 1)[-1]


def child(element: Element, name: str) -> Element | None:
    return next((c for c in element if local(c.tag) == name), None)


def children(element: Element, name: str) -> list[Element]:
    return [c for c in element if local(c.tag) == name]


def text_of(element: Element | None, name: str | None = None) -> str:
    """The text of element (or of its child `name`), whitespace kept as written."""
    if element is not None and name is not None:
        element = child(element, name)
    if element is None:
        return ""
    return "".join(element.itertext())
