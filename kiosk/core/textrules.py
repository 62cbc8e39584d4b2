"""What text a board accepts anywhere it is shown (SPEC 1.4): no control characters, no
unpaired surrogates, and a bounded length for anything echoed from the network.

Pure. Such characters cannot be drawn: SDL_ttf stops a string at U+0000, and a lone
surrogate cannot even be encoded to UTF-8 for HarfBuzz, so one of them in a title would
crash the player at every restart. They are refused at every door (publish, provision,
check-config, a manifest's items) with the field named.
"""

from __future__ import annotations

import re
import unicodedata

_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")
_CONTROL_BUT_TAB_NEWLINE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile("[\ud800-\udfff]")
_UNPRINTABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


# Characters with no glyph that text pasted from Word or a web page carries: soft hyphen,
# zero-width space, non-joiner and joiner, direction marks and embeddings, word joiner and
# invisible operators, direction isolates, and the byte order mark. Vietnamese needs none
# of them; drawn, a title of nothing else has zero width and SDL_ttf refuses it.
_INVISIBLE = re.compile("[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")


def clean_text(value: str) -> str:
    """The one normalisation of every text that will be shown, wherever it enters (kiosk
    publish, the console, the importers, a manifest on the board): line ends made LF, tabs
    made spaces, invisible characters removed, Unicode NFC (SPEC 1.4). The same bulletin
    thus becomes the same signed bytes by every path, and lengths count the same."""
    value = value.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return unicodedata.normalize("NFC", _INVISIBLE.sub("", value))


def text_problem(value: str, multiline: bool = False) -> str | None:
    """Why this text cannot be shown, or None. `multiline` allows tab and newline (a body)."""
    control = (_CONTROL_BUT_TAB_NEWLINE if multiline else _CONTROL).search(value)
    if control is not None:
        return (
            f"holds the control character U+{ord(control.group()):04X} at position "
            f"{control.start() + 1}; remove it"
        )
    surrogate = _SURROGATE.search(value)
    if surrogate is not None:
        return (
            f"holds an unpaired surrogate U+{ord(surrogate.group()):04X} at position "
            f"{surrogate.start() + 1} (broken UTF-16); remove it"
        )
    return None


def printable(value: object, limit: int = 200) -> str:
    """Network-supplied text made safe to echo in a message, a page, a log or a terminal:
    control characters (ANSI escapes among them) and surrogates shown as '?', and at most
    `limit` characters, with how many more there were."""
    text = _UNPRINTABLE.sub("?", value if isinstance(value, str) else repr(value))
    if len(text) > limit:
        return f"{text[:limit]}… ({len(text) - limit} more characters)"
    return text


def shown(value: object, limit: int = 80) -> str:
    """A value from the network quoted in an error message, as repr() would, but bounded
    and with nothing that could drive a terminal."""
    if isinstance(value, str) and len(value) > limit:
        return printable(repr(value[:limit]), limit + 2) + f"… ({len(value)} characters)"
    return printable(repr(value), limit + 2)


def spreadsheet_safe(value: object) -> object:
    """A CSV cell that a spreadsheet will show, not run (OWASP's advice on CSV injection):
    control characters (tab and CR among them) become '?', and text beginning with = + - @
    gets a leading apostrophe. Numbers are left as they are."""
    if not isinstance(value, str):
        return value
    text = printable(value, 2000)
    return "'" + text if text.startswith(("=", "+", "-", "@")) else text
