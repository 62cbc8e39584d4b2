"""Items and manifests of SPEC 1.3 to 1.4: what is accepted, and errors that name item and field."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

import pytest

from kiosk.core.model import (
    ImageItem,
    ItemError,
    ManifestError,
    TextItem,
    TickerItem,
    parse_item,
    parse_items,
    parse_manifest,
)

# The interoperability vectors of an independent implementation, carried by the project
# (tests/test_vectors_copy.py checks them against the team's copy where it exists).
VECTORS = Path(__file__).resolve().parent / "data" / "vectors"
ASSET = {"sha256": "a" * 64, "size": 150, "media_type": "image/png"}


def test_the_vector_manifest_parses_with_every_item_type():
    payload = json.loads((VECTORS / "manifest.payload.json").read_text("utf-8"))
    manifest, errors = parse_manifest(payload, "tinh-08")
    assert errors == []
    assert manifest.sequence == 7
    text, image, tick = manifest.items
    assert isinstance(text, TextItem) and text.duration == 20 and text.title == "Thông báo"
    assert isinstance(image, ImageItem) and image.asset.size == 150 and image.fit == "contain"
    assert isinstance(tick, TickerItem) and tick.text.startswith("Ủy ban")


def test_defaults():
    it = parse_item({"id": "a", "type": "text", "body": "x"})
    assert (it.priority, it.duration, it.days, it.hours, it.valid_from) == (
        "normal",
        10.0,
        None,
        None,
        None,
    )


def test_text_is_normalised_to_nfc():
    decomposed = unicodedata.normalize("NFD", "Thông báo khẩn cấp")
    it = parse_item({"id": "a", "type": "text", "title": decomposed})
    assert it.title == "Thông báo khẩn cấp"
    assert unicodedata.is_normalized("NFC", it.title)


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"id": "bad id!"}, "id", "must match"),
        ({"type": "video"}, "type", "must be one of text, image, ticker"),
        ({"priority": "urgent"}, "priority", "normal, priority, emergency"),
        ({"duration": 2}, "duration", "from 3 to 600"),
        ({"duration": 601}, "duration", "from 3 to 600"),
        ({"duration": "10"}, "duration", "must be a number"),
        ({"duration": True}, "duration", "must be a number"),
        ({"valid_from": "2024-04-16 08:00"}, "valid_from", "RFC 3339"),
        ({"valid_until": "2024-04-16T08:00:00"}, "valid_until", "offset"),
        (
            {"valid_from": "2024-04-16T08:00:00+07:00", "valid_until": "2024-04-16T07:00:00+07:00"},
            "valid_until",
            "after valid_from",
        ),
        ({"days": [0]}, "days", "1 (Monday) to 7"),
        ({"days": []}, "days", "non-empty"),
        ({"days": [8]}, "days", "1 (Monday) to 7"),
        ({"hours": ["8:00-9:00"]}, "hours", "HH:MM-HH:MM"),
        ({"hours": ["08:00-08:00"]}, "hours", "empty"),
        ({"hours": ["25:00-26:00"]}, "hours", "out of range"),
        ({"hours": "08:00-09:00"}, "hours", "array"),
        ({"title": "x" * 201}, "title", "at most 200"),
        ({"body": "x" * 5001}, "body", "at most 5000"),
        ({"title": "", "body": ""}, "title", "needs a title or a body"),
        ({"title": 5}, "title", "must be a string"),
    ],
)
def test_bad_text_items_name_the_item_and_field(fields, field, words):
    raw = {"id": "tb-1", "type": "text", "title": "Thông báo", **fields}
    with pytest.raises(ItemError) as err:
        parse_item(raw, index=2)
    assert err.value.field == field
    assert words in str(err.value)
    assert "#3" in str(err.value)
    if "id" not in fields:
        assert "'tb-1'" in str(err.value)


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ({"asset": None}, "asset", "required"),
        ({"asset": {**ASSET, "sha256": "A" * 64}}, "asset", "lowercase hex"),
        ({"asset": {**ASSET, "size": 0}}, "asset", "size"),
        ({"asset": {**ASSET, "size": 50 * 1024 * 1024 + 1}}, "asset", "size"),
        ({"asset": {**ASSET, "media_type": "image/gif"}}, "asset", "media_type"),
        ({"fit": "stretch"}, "fit", "contain, cover"),
        ({"caption": "x" * 301}, "caption", "at most 300"),
        ({"background": "red"}, "background", "#RRGGBB"),
    ],
)
def test_bad_image_items(fields, field, words):
    raw = {"id": "anh", "type": "image", "asset": ASSET, **fields}
    with pytest.raises(ItemError) as err:
        parse_item(raw)
    assert err.value.field == field and words in str(err.value)


def test_image_background_and_cover():
    it = parse_item(
        {"id": "a", "type": "image", "asset": ASSET, "fit": "cover", "background": "#10A0fF"}
    )
    assert it.fit == "cover" and it.background == (0x10, 0xA0, 0xFF)


@pytest.mark.parametrize(("text", "words"), [(None, "required"), ("", "needs some text")])
def test_bad_ticker(text, words):
    raw = {"id": "k", "type": "ticker"}
    if text is not None:
        raw["text"] = text
    with pytest.raises(ItemError, match=words):
        parse_item(raw)


def test_a_bad_item_is_skipped_alone():
    raws = [
        {"id": "a", "type": "text", "title": "A"},
        {"id": "b", "type": "hologram"},
        "not an object",
        {"id": "a", "type": "text", "title": "again"},
        {"id": "c", "type": "ticker", "text": "C"},
    ]
    items, errors = parse_items(raws)
    assert [i.id for i in items] == ["a", "c"]
    assert [e.field for e in errors] == ["type", None, "id"]
    assert "repeats" in str(errors[2]) and "#4" in str(errors[2])
    assert all(e.code == "item_invalid" for e in errors)


def _payload(**changes):
    base = {
        "format": 1,
        "channel": "xa-02263",
        "sequence": 3,
        "issued_at": "2024-04-16T08:00:00+07:00",
        "expires_at": "2024-04-30T08:00:00+07:00",
        "items": [],
        "extra_field": "ignored",
    }
    return {**base, **changes}


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"format": 2}, "format 2 is not supported"),
        ({"format": True}, "not supported"),
        ({"channel": "tinh-08"}, "not the requested"),
        ({"sequence": 0}, "sequence"),
        ({"sequence": "3"}, "sequence"),
        ({"expires_at": "2024-04-16T08:00:00+07:00"}, "after issued_at"),
        ({"issued_at": "yesterday"}, "issued_at"),
        ({"items": {}}, "items must be an array"),
        ({"items": [{"id": f"i{n}", "type": "ticker", "text": "x"} for n in range(501)]}, "501"),
    ],
)
def test_bad_manifests_are_rejected_whole(changes, words):
    with pytest.raises(ManifestError, match=words) as err:
        parse_manifest(_payload(**changes), "xa-02263")
    assert err.value.code == "manifest_invalid"


def test_manifest_not_an_object():
    with pytest.raises(ManifestError):
        parse_manifest([1, 2], "xa-02263")
