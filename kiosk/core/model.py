"""The content model of SPEC 1.3 to 1.4: items and manifests, parsed and validated.

Pure: no I/O and no clock. Every error names the item and the field, so an author or a
technician can find it without reading code.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, ClassVar, Literal

from kiosk.core.textrules import clean_text, shown, text_problem
from kiosk.core.timeutil import HourWindow, WeekMask, parse_rfc3339, parse_window, week_mask

Priority = Literal["normal", "priority", "emergency"]
PRIORITIES: tuple[Priority, ...] = ("normal", "priority", "emergency")
ITEM_TYPES = ("text", "image", "ticker")
MEDIA_TYPES = ("image/jpeg", "image/png", "image/webp")
MAX_ITEMS = 500
MAX_ASSET_BYTES = 50 * 1024 * 1024
MAX_WINDOWS = 24  # hour windows per item (SPEC 1.4): the schedule's cost is bounded by it
ITEM_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}\Z")
CHANNEL_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}\Z")
SHA256_HEX = re.compile(r"^[0-9a-f]{64}\Z")
COLOUR = re.compile(r"^#[0-9A-Fa-f]{6}\Z")
MANIFEST_FORMAT = 1


def nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


class ItemError(ValueError):
    """An item that breaks its rules: skipped alone, reported as item_invalid."""

    code = "item_invalid"

    def __init__(self, item: str, field: str | None, problem: str) -> None:
        self.item, self.field, self.problem = item, field, problem
        where = f"item {item}" + (f": field '{field}'" if field else "")
        super().__init__(f"{where}: {problem}")


class ManifestError(ValueError):
    """A manifest that breaks a rule of SPEC 1.3: rejected whole; the device keeps what it had."""

    def __init__(self, problem: str, code: str = "manifest_invalid") -> None:
        self.code = code
        super().__init__(problem)


@dataclass(frozen=True)
class AssetRef:
    sha256: str
    size: int
    media_type: str


@dataclass(frozen=True, kw_only=True)
class Item:
    id: str
    priority: Priority = "normal"
    duration: float = 10.0
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    days: frozenset[int] | None = None
    hours: tuple[HourWindow, ...] | None = None
    type: ClassVar[str]

    @property
    def is_ticker(self) -> bool:
        return self.type == "ticker"

    @property
    def label(self) -> str:
        """What a person calls this bulletin on a status page or in a report."""
        return self.id

    @functools.cached_property
    def week(self) -> WeekMask | None:
        """hours and days as a WeekMask (None: every hour of every day), made once."""
        if self.hours is None and self.days is None:
            return None
        return week_mask(self.hours, self.days)


LABEL_CHARS = 120


def short_label(text: str) -> str:
    """The first line of text, cut at a word to at most LABEL_CHARS characters."""
    line = text.strip().split("\n", 1)[0].strip()
    if len(line) <= LABEL_CHARS:
        return line
    return line[:LABEL_CHARS].rsplit(" ", 1)[0] + "…"


@dataclass(frozen=True, kw_only=True)
class TextItem(Item):
    type: ClassVar[str] = "text"
    title: str = ""
    body: str = ""

    @property
    def label(self) -> str:
        return self.title or short_label(self.body) or self.id


@dataclass(frozen=True, kw_only=True)
class ImageItem(Item):
    type: ClassVar[str] = "image"
    asset: AssetRef
    fit: Literal["contain", "cover"] = "contain"
    caption: str = ""
    background: tuple[int, int, int] | None = None

    @property
    def label(self) -> str:
        return short_label(self.caption) or self.id


@dataclass(frozen=True, kw_only=True)
class TickerItem(Item):
    type: ClassVar[str] = "ticker"
    text: str

    @property
    def label(self) -> str:
        return short_label(self.text) or self.id


@dataclass(frozen=True)
class Manifest:
    channel: str
    sequence: int
    issued_at: datetime
    expires_at: datetime
    items: tuple[Item, ...]


class _Fields:
    """Reads one item's fields, raising ItemError that names the item and the field."""

    def __init__(self, raw: Mapping[str, Any], ref: str) -> None:
        self.raw, self.ref = raw, ref

    def fail(self, field: str | None, problem: str) -> ItemError:
        return ItemError(self.ref, field, problem)

    def text(
        self, name: str, max_len: int, default: str | None = "", multiline: bool = False
    ) -> str:
        value = self.raw.get(name, default)
        if value is None:
            raise self.fail(name, "is required")
        if not isinstance(value, str):
            raise self.fail(name, f"must be a string, got {type(value).__name__}")
        # looked at before any work on a hostile length; decomposed Vietnamese (a letter and
        # two marks) is up to three code points for each character it will have in NFC
        if len(value) > 4 * max_len:
            raise self.fail(name, f"has {len(value)} characters; at most {max_len} are allowed")
        value = clean_text(value)
        if problem := text_problem(value, multiline):
            raise self.fail(name, problem)
        value = value.strip()
        if len(value) > max_len:
            raise self.fail(name, f"has {len(value)} characters; at most {max_len} are allowed")
        return value

    def choice(self, name: str, allowed: tuple[str, ...], default: str) -> str:
        value = self.raw.get(name, default)
        if value not in allowed:
            raise self.fail(name, f"must be one of {', '.join(allowed)}; got {shown(value)}")
        return value

    def number(self, name: str, low: float, high: float, default: float) -> float:
        value = self.raw.get(name, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise self.fail(name, f"must be a number, got {type(value).__name__}")
        if not low <= value <= high:
            raise self.fail(name, f"must be from {low:g} to {high:g}, got {value:g}")
        return float(value)

    def optional(self, name: str, parse: Callable[[Any], Any]) -> Any:
        if name not in self.raw or self.raw[name] is None:
            return None
        try:
            return parse(self.raw[name])
        except ValueError as exc:
            raise self.fail(name, str(exc)) from None

    def array(self, name: str, parse: Callable[[Any], Any], max_len: int) -> tuple[Any, ...] | None:
        def parse_all(values: Any) -> tuple[Any, ...]:
            if not isinstance(values, list) or not values:
                raise ValueError("must be a non-empty array")
            if len(values) > max_len:
                raise ValueError(f"has {len(values)} entries; at most {max_len} are allowed")
            return tuple(parse(v) for v in values)

        return self.optional(name, parse_all)


def _weekday(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 7:
        raise ValueError(f"weekdays are whole numbers 1 (Monday) to 7 (Sunday), got {shown(value)}")
    return value


def _colour(value: Any) -> tuple[int, int, int]:
    if not isinstance(value, str) or not COLOUR.match(value):
        raise ValueError(f'must be a colour "#RRGGBB", got {shown(value)}')
    return int(value[1:3], 16), int(value[3:5], 16), int(value[5:7], 16)


def _asset(value: Any) -> AssetRef:
    if not isinstance(value, Mapping):
        raise ValueError("must be an object with sha256, size and media_type")
    sha, size, media = value.get("sha256"), value.get("size"), value.get("media_type")
    if not isinstance(sha, str) or not SHA256_HEX.match(sha):
        raise ValueError(f"sha256 must be 64 lowercase hex digits, got {shown(sha)}")
    if isinstance(size, bool) or not isinstance(size, int) or not 0 < size <= MAX_ASSET_BYTES:
        raise ValueError(f"size must be a whole number of bytes from 1 to {MAX_ASSET_BYTES}")
    if media not in MEDIA_TYPES:
        raise ValueError(f"media_type must be one of {', '.join(MEDIA_TYPES)}, got {shown(media)}")
    return AssetRef(sha, size, media)


def item_ref(raw: object, index: int) -> str:
    """How errors name an item: its id when it has a usable one, and always its position."""
    ident = raw.get("id") if isinstance(raw, Mapping) else None
    if isinstance(ident, str) and ITEM_ID.match(ident):
        return f"'{ident}' (#{index + 1})"
    return f"#{index + 1}"


def parse_item(raw: object, index: int = 0) -> Item:
    """One item of SPEC 1.4 from its JSON (or TOML) object."""
    ref = item_ref(raw, index)
    if not isinstance(raw, Mapping):
        raise ItemError(ref, None, f"must be an object, got {type(raw).__name__}")
    f = _Fields(raw, ref)
    ident = raw.get("id")
    if not isinstance(ident, str) or not ITEM_ID.match(ident):
        raise f.fail(
            "id", f"must match {ITEM_ID.pattern} (letters, digits, . _ -), got {shown(ident)}"
        )
    kind = raw.get("type")
    if kind not in ITEM_TYPES:
        raise f.fail("type", f"must be one of {', '.join(ITEM_TYPES)}, got {shown(kind)}")
    common: dict[str, Any] = {
        "id": ident,
        "priority": f.choice("priority", PRIORITIES, "normal"),
        "duration": f.number("duration", 3, 600, 10),
        "valid_from": f.optional("valid_from", parse_rfc3339),
        "valid_until": f.optional("valid_until", parse_rfc3339),
        "days": None,
        "hours": f.array("hours", parse_window, MAX_WINDOWS),
    }
    days = f.array("days", _weekday, 7)
    common["days"] = frozenset(days) if days is not None else None
    vf, vu = common["valid_from"], common["valid_until"]
    if vf is not None and vu is not None and vu <= vf:
        raise f.fail("valid_until", "must be after valid_from")
    if kind == "text":
        title, body = f.text("title", 200), f.text("body", 5000, multiline=True)
        if not title and not body:
            raise f.fail("title", "a text item needs a title or a body")
        return TextItem(**common, title=title, body=body)
    if kind == "image":
        asset = f.optional("asset", _asset)
        if asset is None:
            raise f.fail("asset", "is required for an image item")
        return ImageItem(
            **common,
            asset=asset,
            fit=f.choice("fit", ("contain", "cover"), "contain"),  # type: ignore[arg-type]
            caption=f.text("caption", 300),
            background=f.optional("background", _colour),
        )
    text = f.text("text", 500, default=None)
    if not text:
        raise f.fail("text", "a ticker needs some text")
    return TickerItem(**common, text=text)


def parse_items(raws: list[Any]) -> tuple[tuple[Item, ...], list[ItemError]]:
    """Good items in order, and the errors of the ones skipped (a bad item never sinks the rest)."""
    items: list[Item] = []
    errors: list[ItemError] = []
    seen: set[str] = set()
    for index, raw in enumerate(raws):
        try:
            item = parse_item(raw, index)
        except ItemError as exc:
            errors.append(exc)
            continue
        if item.id in seen:
            errors.append(ItemError(item_ref(raw, index), "id", "repeats an earlier item's id"))
            continue
        seen.add(item.id)
        _ = item.week  # made here, where the manifest is read, not in the player's loop
        items.append(item)
    return tuple(items), errors


def parse_manifest(payload: object, channel: str) -> tuple[Manifest, list[ItemError]]:
    """A manifest payload (already verified and decoded from JSON) for the requested channel."""
    if not isinstance(payload, Mapping):
        raise ManifestError("the manifest must be a JSON object")
    fmt = payload.get("format")
    if fmt != MANIFEST_FORMAT or isinstance(fmt, bool):
        raise ManifestError(f"format {shown(fmt)} is not supported (this kiosk reads format 1)")
    if payload.get("channel") != channel:
        raise ManifestError(
            f"manifest is for channel {shown(payload.get('channel'))}, "
            f"not the requested {shown(channel)}"
        )
    seq = payload.get("sequence")
    if isinstance(seq, bool) or not isinstance(seq, int) or seq < 1:
        raise ManifestError(f"sequence must be a whole number from 1, got {shown(seq)}")
    try:
        issued = parse_rfc3339(payload.get("issued_at"))
        expires = parse_rfc3339(payload.get("expires_at"))
    except ValueError as exc:
        raise ManifestError(f"issued_at or expires_at: {exc}") from None
    if expires <= issued:
        raise ManifestError("expires_at must be after issued_at")
    raws = payload.get("items")
    if not isinstance(raws, list):
        raise ManifestError("items must be an array")
    if len(raws) > MAX_ITEMS:
        raise ManifestError(f"items has {len(raws)} entries; at most {MAX_ITEMS} are allowed")
    items, errors = parse_items(raws)
    return Manifest(channel, seq, issued, expires, items), errors
