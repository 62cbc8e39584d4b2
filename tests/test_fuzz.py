"""Fuzzing with hypothesis: what comes from outside (a manifest off the network, an author's
playlist, an installer's kiosk.toml, any text at any size and rotation) never raises anything
but the defined errors, and rendered text never leaves its box.

In CI each property runs a fixed set of examples (the "ci" profile, derandomized, so a
failure reproduces). For a long hunt: HYPOTHESIS_PROFILE=fuzz ./scripts/test tests/test_fuzz.py
"""

from __future__ import annotations

import contextlib
import json
import math
import tomllib
import unicodedata
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pygame
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from kiosk.core.authoring import FileAssets, PlaylistError, load_playlist
from kiosk.core.bootfiles import toml_string
from kiosk.core.config import ConfigError, parse_config_text
from kiosk.core.model import ItemError, ManifestError, TextItem, parse_manifest
from kiosk.core.schedule import ChannelContent, next_change, rotation_at
from kiosk.core.signing import EnvelopeError, sign_envelope, verify_envelope
from kiosk.render.painter import FramePainter, View
from kiosk.render.screen import Orientation
from kiosk.render.theme import theme_for
from tests.conftest import MINIMAL_CONFIG
from tests.province import png_bytes
from tests.test_render import STACKED, VIET, ink_outside, text_item

VN = ZoneInfo("Asia/Ho_Chi_Minh")
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=VN)
FAST = settings(suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
SLOW = settings(
    FAST,
    max_examples=max(10, settings.default.max_examples // 4),
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)

# -- values -----------------------------------------------------------------------------------

vietnamese = st.text(alphabet=VIET + VIET.upper() + STACKED + " .,:;-–()0123456789\n", max_size=400)
any_text = st.one_of(vietnamese, st.text(max_size=60))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    any_text,
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)


def rfc3339(hours: float) -> str:
    return (NOW + timedelta(hours=hours)).isoformat()


times = st.floats(min_value=-400, max_value=400).map(rfc3339)
windows = st.sampled_from(["06:00-18:00", "22:00-06:00", "00:00-24:00", "7:00-8:00", "12:00-12:00"])
ITEM_FIELDS = {
    "id": st.from_regex(r"[a-z0-9][a-z0-9._-]{0,20}", fullmatch=True),
    "type": st.sampled_from(["text", "image", "ticker", "video"]),
    "priority": st.sampled_from(["normal", "priority", "emergency", "high"]),
    "duration": st.one_of(st.integers(0, 700), st.floats(allow_nan=True)),
    "valid_from": times,
    "valid_until": times,
    "days": st.lists(st.integers(0, 8), max_size=8),
    "hours": st.lists(windows, max_size=3),
    "title": vietnamese,
    "body": vietnamese,
    "text": vietnamese,
    "caption": vietnamese,
    "fit": st.sampled_from(["contain", "cover", "fill"]),
    "background": st.sampled_from(["#102030", "#fff", "red", "#GGGGGG"]),
    "asset": st.fixed_dictionaries(
        {
            "sha256": st.from_regex(r"[0-9a-f]{64}", fullmatch=True),
            "size": st.integers(-1, 2**40),
            "media_type": st.sampled_from(["image/png", "image/jpeg", "image/gif"]),
        }
    ),
}


def sometimes(draw, one_in: int) -> bool:
    """True about once in one_in draws. (Not `== 0`: hypothesis favours the simplest value.)"""
    return draw(st.integers(0, one_in - 1)) == one_in // 2


@st.composite
def fields_of(draw, table: dict[str, st.SearchStrategy], most: int = 8) -> dict:
    """A table with some of the known keys, each a plausible value or anything at all, and
    now and then a key nobody knows."""
    out = {}
    for key in draw(st.lists(st.sampled_from(sorted(table)), unique=True, max_size=most)):
        out[key] = draw(st.one_of(table[key], table[key], json_values))
    if sometimes(draw, 10):
        out[draw(st.text(min_size=1, max_size=8))] = draw(json_values)
    return out


NEEDS = {"text": ("title",), "image": ("asset",), "ticker": ("text",)}


@st.composite
def items(draw) -> object:
    """Mostly an item with what its type needs, plus a few fields more; sometimes anything."""
    if sometimes(draw, 10):
        return draw(json_values)
    kind = draw(st.sampled_from(sorted(NEEDS)))
    item = {"id": draw(ITEM_FIELDS["id"]), "type": kind}
    item.update({key: draw(ITEM_FIELDS[key]) for key in NEEDS[kind]})
    item.update(draw(fields_of(ITEM_FIELDS, most=3)))
    return item


@st.composite
def manifests(draw) -> dict:
    """A well-formed manifest with up to two of its fields dropped or replaced by anything."""
    doc = {
        "format": 1,
        "channel": "tinh-08",
        "sequence": draw(st.integers(0, 2**63)),
        "issued_at": rfc3339(-draw(st.floats(0, 400))),
        "expires_at": rfc3339(draw(st.floats(0, 400))),
        "items": draw(st.lists(items(), max_size=8)),
    }
    for key in draw(st.lists(st.sampled_from(sorted(doc)), unique=True, max_size=2)):
        if draw(st.booleans()):
            del doc[key]
        else:
            doc[key] = draw(json_values)
    return doc


# -- manifests --------------------------------------------------------------------------------


@FAST
@given(manifests())
def test_a_manifest_is_parsed_or_refused_with_a_defined_error(doc):
    try:
        manifest, errors = parse_manifest(doc, "tinh-08")
    except ManifestError as exc:
        assert str(exc) and exc.code in ("manifest_invalid", "rollback_rejected")
        return
    assert all(isinstance(e, ItemError) and str(e) for e in errors)
    ids = [item.id for item in manifest.items]
    assert len(ids) == len(set(ids))
    for item in manifest.items:
        assert 3 <= item.duration <= 600
        if item.valid_from and item.valid_until:
            assert item.valid_until > item.valid_from
        if isinstance(item, TextItem):
            assert unicodedata.is_normalized("NFC", item.title + item.body)
    # whatever was accepted can be scheduled, at any moment
    channels = (ChannelContent("tinh-08", manifest.items, manifest.expires_at),)
    for hours in (-30, 0, 7.5, 200):
        at = NOW + timedelta(hours=hours)
        rotation_at(channels, at, VN)
        change = next_change(channels, at, VN)
        assert change is None or change > at


@FAST
@given(st.one_of(st.binary(max_size=300), json_values.map(lambda v: json.dumps(v).encode())))
def test_any_bytes_as_an_envelope_are_refused_with_envelope_error(data):
    with pytest.raises(EnvelopeError):
        verify_envelope(data, ["ed25519:" + "A" * 43 + "="])


@FAST
@given(st.binary(min_size=1, max_size=40), st.integers(min_value=0))
@example(noise=b"\xc2\x80", where=70)  # found by the fuzz profile: a ValueError escaped
def test_a_signed_envelope_changed_anywhere_is_refused(noise, where):
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from kiosk.core.signing import public_key_text, raw_public_key

    key = Ed25519PrivateKey.from_private_bytes(bytes(32))
    envelope = sign_envelope(b'{"format": 1}', key)
    spot = where % len(envelope)
    changed = envelope[:spot] + noise + envelope[spot + 1 :]
    keys = [public_key_text(raw_public_key(key))]
    with contextlib.suppress(EnvelopeError):  # or it was a harmless change
        assert verify_envelope(changed, keys) == b'{"format": 1}'


# -- TOML files: playlists and kiosk.toml -----------------------------------------------------


def toml_value(value) -> str:
    """A value as TOML writes it (None has no TOML form: it is left out)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float) and math.isnan(value):
        return "nan"
    if isinstance(value, float) and math.isinf(value):
        return "inf" if value > 0 else "-inf"
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value if v is not None) + "]"
    if isinstance(value, dict):
        pairs = (f"{toml_string(k)} = {toml_value(v)}" for k, v in value.items() if v is not None)
        return "{" + ", ".join(pairs) + "}"
    return '""'


def toml_table(header: str, table: dict) -> str:
    lines = [header]
    lines += [f"{toml_string(k)} = {toml_value(v)}" for k, v in table.items() if v is not None]
    return "\n".join(lines) + "\n"


def mangled(text: str, draw) -> bytes:
    """The file's bytes, now and then cut short or with a byte changed, as a bad copy
    or a careless edit leaves it."""
    data = text.encode("utf-8")
    how = draw(st.sampled_from(["as is", "as is", "as is", "cut", "byte"]))
    if how == "cut" and data:
        return data[: draw(st.integers(0, len(data) - 1))]
    if how == "byte" and data:
        spot = draw(st.integers(0, len(data) - 1))
        return data[:spot] + bytes([draw(st.integers(0, 255))]) + data[spot + 1 :]
    return data


@st.composite
def playlists(draw) -> bytes:
    """An author's playlist: items as above, images naming a file (there, missing, not an
    image, outside the folder) instead of an asset."""
    text = f"channel = {toml_value(draw(st.one_of(st.just('xa-02263'), any_text)))}\n"
    files = st.sampled_from(["photo.png", "missing.jpg", "notes.txt", "../x.png", ""])
    for item in draw(st.lists(items(), max_size=6)):
        if isinstance(item, dict) and item.get("type") == "image":
            item.pop("asset", None)
            item["file"] = draw(files)
        text += toml_table("[[items]]", item) if isinstance(item, dict) else "[[items]]\n"
    return mangled(text, draw)


@FAST
@given(playlists())
def test_an_authors_playlist_loads_or_names_its_file_and_problem(tmp_path_factory, data):
    folder = tmp_path_factory.mktemp("playlist")
    (folder / "photo.png").write_bytes(png_bytes())
    (folder / "notes.txt").write_text("không phải ảnh", "utf-8")
    path = folder / "xa-02263.toml"
    path.write_bytes(data)
    try:
        playlist = load_playlist(path)
    except PlaylistError as exc:
        assert str(path) in str(exc)
        return
    assert all(str(path) in problem for problem in playlist.errors)
    for sha in playlist.assets.files:
        assert playlist.assets.path(sha) == folder / "photo.png"  # nothing outside the folder


KEY = "ed25519:PyGRSjjDVJqaN/m2LRVf//6juXPAYU1SzN+5NThSf0g="
CONFIG_TABLES = {  # valid values only: the junk comes from json_values and mangled()
    "device": {
        "id": st.sampled_from(["08-02263-01", "08-02263-02"]),
        "unit_name": vietnamese.filter(str.strip),
        "unit_kind": st.sampled_from(["xa", "phuong", "thi_tran"]),
        "province_code": st.sampled_from(["08", "01"]),
        "commune_code": st.sampled_from(["02263", "00001"]),
        "district": vietnamese,
        "timezone": st.sampled_from(["Asia/Ho_Chi_Minh", "UTC"]),
    },
    "source": {
        "url": st.sampled_from(["https://nguon.example.vn", "http://10.0.0.2:8080/tin"]),
        "channels": st.lists(st.sampled_from(["tinh-08", "xa-02263"]), min_size=1, unique=True),
        "public_keys": st.just([KEY]),
        "token_file": st.just("/etc/kiosk/token"),
        "poll_seconds": st.integers(5, 86400),
        "heartbeat_seconds": st.integers(5, 3600),
    },
    "display": {
        "size": st.sampled_from(["1920x1080", "1080x1920", "3840x2160"]),
        "rotation": st.sampled_from([0, 90, 180, 270]),
        "on_hours": st.lists(windows, min_size=1, max_size=3),
        "power": st.sampled_from(["blank", "cec"]),
    },
    "health": {"listen": st.sampled_from(["0.0.0.0:8080", "127.0.0.1:9100", "[::]:8080"])},
    "storage": {"dir": st.sampled_from(["/var/lib/kiosk", "/srv/kiosk"])},
    "gpio": {pin: st.integers(0, 27) for pin in ("status_led", "fan", "screen_relay")},
}


@st.composite
def kiosk_tomls(draw) -> bytes:
    """A valid kiosk.toml with more keys in each table, plausible or not, and now and then a
    table misspelt or a required key gone."""
    doc = {name: dict(table) for name, table in MINIMAL_CONFIG.items()}
    for name in draw(st.lists(st.sampled_from(sorted(CONFIG_TABLES)), unique=True)):
        doc.setdefault(name, {}).update(draw(fields_of(CONFIG_TABLES[name], most=3)))
    if sometimes(draw, 10):
        doc["dispaly"] = {"size": "1920x1080"}
    if sometimes(draw, 6):
        table = draw(st.sampled_from(sorted(MINIMAL_CONFIG)))
        doc[table].pop(draw(st.sampled_from(sorted(MINIMAL_CONFIG[table]))), None)
    text = "".join(toml_table(f"[{name}]", table) for name, table in doc.items())
    return mangled(text, draw)


@FAST
@given(kiosk_tomls())
def test_a_kiosk_toml_loads_or_every_problem_names_the_file(data):
    try:
        config = parse_config_text(data, "/boot/firmware/kiosk.toml")
    except ConfigError as exc:
        assert exc.problems and all(p.startswith("/boot/firmware/kiosk.toml") for p in exc.problems)
        return
    assert config.device.id and config.source.channels and config.source.public_keys
    assert 5 <= config.source.poll_seconds <= 86400
    assert config.display.rotation in (0, 90, 180, 270)
    assert len(set(config.gpio.values())) == len(config.gpio)
    tomllib.loads(data.decode("utf-8"))  # it was TOML after all


# -- the renderer -----------------------------------------------------------------------------

sizes = st.tuples(st.integers(240, 1920), st.integers(240, 1920))
SENTINEL = (255, 0, 255)


@SLOW
@given(
    title=vietnamese,
    body=vietnamese,
    unit=st.text(alphabet=VIET + VIET.upper() + " ", min_size=1, max_size=80),
    ticker=vietnamese,
    size=sizes,
    rotation=st.sampled_from([0, 90, 180, 270]),
    priority=st.sampled_from(["normal", "priority", "emergency"]),
    decompose=st.booleans(),
)
def test_any_text_at_any_size_and_rotation_stays_in_its_boxes(
    fonts, title, body, unit, ticker, size, rotation, priority, decompose
):
    if not title.strip() and not body.strip():
        title = "Thông báo"
    if decompose:  # text may arrive decomposed; the model makes it NFC
        title, body = unicodedata.normalize("NFD", title), unicodedata.normalize("NFD", body)
    item = text_item(title, body, priority=priority)
    orientation = Orientation(size, rotation)
    painter = FramePainter(orientation.logical, fonts, FileAssets(), unit.strip() or "UBND")
    theme = theme_for(item.priority, priority == "emergency")
    strip = painter.ticker_strip((ticker,)) if ticker.strip() else None
    regions = painter.regions(theme, with_ticker=strip is not None)
    box = painter.slides.text_box(regions.slide)
    for page in range(painter.slides.pages(item, regions.slide)):
        frame = pygame.Surface(orientation.logical)
        view = View(theme, item, page, priority == "emergency")
        painter.paint(frame, view, NOW, strip, scrolled=page * 97.0)
        assert orientation.to_physical(frame).get_size() == size
        only_text = pygame.Surface(orientation.logical)
        painter.slides.draw(only_text, regions.slide, item, page, theme)
        assert ink_outside(only_text, regions.slide, box, theme.background) == 0
    # the header and the ticker band draw inside their own rectangles only
    for draw_part, rect in (
        (lambda s: painter.header(s, regions.header, theme, NOW), regions.header),
        (
            lambda s: strip.draw(s, regions.ticker, 1234.5, theme.ticker_bg, theme.ticker_text),
            regions.ticker,
        ),
    ):
        if rect is None or (strip is None and rect is regions.ticker):
            continue
        canvas = pygame.Surface(orientation.logical)
        canvas.fill(SENTINEL)
        draw_part(canvas)
        canvas.fill(SENTINEL, rect)
        assert pygame.mask.from_threshold(canvas, SENTINEL, (1, 1, 1, 255)).count() == (
            size[0] * size[1]
        )


@SLOW
@given(st.lists(items(), min_size=1, max_size=6), sizes, st.sampled_from([0, 90, 180, 270]))
def test_whatever_the_schedule_accepts_the_player_paints(fonts, raws, size, rotation):
    """Items as fuzzed as the manifests above, through the schedule and onto a frame."""
    doc = {
        "format": 1,
        "channel": "tinh-08",
        "sequence": 1,
        "issued_at": rfc3339(-1),
        "expires_at": rfc3339(48),
        "items": raws,
    }
    manifest, _ = parse_manifest(doc, "tinh-08")
    channels = (ChannelContent("tinh-08", manifest.items, manifest.expires_at),)
    rotation_now = rotation_at(channels, NOW.astimezone(UTC), VN)
    orientation = Orientation(size, rotation)
    painter = FramePainter(orientation.logical, fonts, FileAssets(), "UBND xã Tân Trào")
    strip = painter.ticker_strip(tuple(e.item.text for e in rotation_now.tickers))
    for entry in rotation_now.slides:
        theme = theme_for(entry.item.priority, rotation_now.emergency)
        frame = pygame.Surface(orientation.logical)
        try:
            painter.paint(frame, View(theme, entry.item, 0, rotation_now.emergency), NOW, strip)
        except Exception as exc:  # an image not stored is the one defined failure
            assert getattr(exc, "code", None) == "asset_invalid", repr(exc)
