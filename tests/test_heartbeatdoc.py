"""A heartbeat body checked before anything is stored (kiosk/province/fleet/heartbeatdoc.py), pure:
what a board sends is taken, anything else is refused naming the field, and no body makes
the check itself fail."""

from __future__ import annotations

import base64
import json
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kiosk.province.fleet.heartbeatdoc import (
    MAX_SCREENSHOT,
    Heartbeat,
    HeartbeatInvalid,
    parse_heartbeat,
)

DEVICE = "08-02263-01"


def good(**extra) -> dict:
    return {
        "device_id": DEVICE,
        "sent_at": "2026-12-02T08:30:00+07:00",
        "health": {
            "status": "degraded",
            "problems": [{"code": "disk_low", "message": "…", "since": None}],
            "display": {"current_item": {"channel": "tinh-08", "id": "bao-so-3", "title": "Bão"}},
        },
        "plays": [
            {
                "channel": "tinh-08",
                "item": "bao-so-3",
                "started_at": "2026-12-02T08:29:00+07:00",
                "duration_s": 20,
            }
        ],
        **extra,
    }


def parse(doc) -> Heartbeat:
    return parse_heartbeat(json.dumps(doc).encode(), DEVICE)


def test_a_boards_heartbeat_is_read_whole():
    hb = parse(good(done=["c1"]))
    assert hb.status == "degraded" and hb.problems == ("disk_low",)
    assert hb.current_item == ("tinh-08", "bao-so-3") and hb.current_title == "Bão"
    assert hb.plays[0].started_at == datetime(2026, 12, 2, 1, 29, tzinfo=UTC)
    assert hb.plays[0].duration_s == 20.0 and hb.done == ("c1",)
    assert hb.screenshot is None and hb.health["status"] == "degraded"


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (lambda d: d.update(device_id="08-99999-01"), "device_id"),
        (lambda d: d.update(sent_at="hôm qua"), "sent_at"),
        (lambda d: d.update(sent_at="1970-01-01T00:00:00Z"), "sent_at"),
        (lambda d: d.update(health=[]), "health"),
        (lambda d: d["health"].update(status="great"), "health.status"),
        (lambda d: d["health"].update(problems={}), "health.problems"),
        (lambda d: d["health"]["display"].update(current_item={"channel": "A", "id": "b"}),
         "current_item.channel"),
        (lambda d: d["health"].update(pad="x" * 70_000), "health is larger"),
        (lambda d: d["health"].update(pad="a\x00b"), "NUL"),
        (lambda d: d.update(plays={}), "plays"),
        (lambda d: d.update(plays=[d["plays"][0]] * 2001), "plays"),
        (lambda d: d.update(done=["a b"]), "done[0]"),
        (lambda d: d.update(done=["x"] * 33), "done"),
    ],
)  # fmt: skip
def test_anything_else_is_refused_naming_the_field(change, named):
    doc = good()
    change(doc)
    with pytest.raises(HeartbeatInvalid, match=named.replace("[", r"\[").replace("]", r"\]")):
        parse(doc)


@pytest.mark.parametrize(
    "change",
    [
        lambda p: p.update(channel="Tỉnh 08"),
        lambda p: p.update(item="a\nb"),
        lambda p: p.update(started_at=None),
        lambda p: p.update(started_at="hôm qua"),
        lambda p: p.update(duration_s=True),
        lambda p: p.update(duration_s="20"),
        lambda p: p.pop("item"),
    ],
)
def test_a_malformed_play_is_skipped_and_counted_not_the_whole_heartbeat(change):
    """A bad record costs only itself: the heartbeat, its health and the good plays beside
    it are taken (issue 23: the board's queue stayed stuck behind one bad play)."""
    doc = good()
    doc["plays"].append(dict(doc["plays"][0], item="ok-2"))
    change(doc["plays"][0])
    hb = parse(doc)
    assert [p.item for p in hb.plays] == ["ok-2"] and hb.plays_malformed == 1


def test_too_many_or_malformed_problems_are_trimmed_never_the_whole_heartbeat():
    """Issue 24, 10: 71 problems made the province refuse every heartbeat (400), and the
    board went "offline" with no plays acknowledged."""
    doc = good()
    doc["health"]["problems"] = (
        [{"code": "item_invalid", "message": f"item {n}"} for n in range(70)]
        + [{"code": "Disk Low"}, "not an object", {"code": "disk_low"}]
        + [{"code": f"code_{n}"} for n in range(100)]
    )
    hb = parse(doc)
    assert hb.problems[:2] == ("item_invalid", "disk_low") and len(hb.problems) == 64
    assert len(hb.plays) == 1


def test_plays_are_stored_within_the_spec_bounds_only():
    from datetime import timedelta

    from kiosk.province.fleet.heartbeatdoc import (
        MAX_PLAY_SECONDS,
        PLAYS_AHEAD,
        PLAYS_BEHIND,
        storable,
    )

    hb = parse(good())
    now = hb.plays[0].started_at
    ok = hb.plays[0]
    cases = {
        "in": ok,
        "ahead": replace(ok, started_at=now + PLAYS_AHEAD),
        "too far ahead": replace(ok, started_at=now + PLAYS_AHEAD + timedelta(seconds=1)),
        "behind": replace(ok, started_at=now - PLAYS_BEHIND),
        "too old": replace(ok, started_at=now - PLAYS_BEHIND - timedelta(seconds=1)),
        "an hour": replace(ok, duration_s=MAX_PLAY_SECONDS),
        "longer": replace(ok, duration_s=MAX_PLAY_SECONDS + 0.5),
        "negative": replace(ok, duration_s=-0.1),
    }
    kept, rejected = storable(tuple(cases.values()), now)
    assert [k for k, p in cases.items() if p in kept] == ["in", "ahead", "behind", "an hour"]
    assert rejected == 4


@pytest.mark.parametrize(
    "body",
    [b"", b"not json", b"[" * 50_000, b'{"device_id": NaN}', b"\xff\xfe", b"[]", b"1e999999"],
)
def test_bodies_that_are_not_json_objects_are_refused(body):
    with pytest.raises(HeartbeatInvalid):
        parse_heartbeat(body, DEVICE)


def test_a_lone_surrogate_in_health_is_refused():
    body = json.dumps(good(), ensure_ascii=False).replace('"Bão"', '"\\ud800"').encode()
    with pytest.raises(HeartbeatInvalid, match="surrogate"):
        parse_heartbeat(body, DEVICE)


def test_a_bad_screenshot_costs_only_itself():
    jpeg = b"\xff\xd8\xff\xe0" + b"\x00" * 100
    assert parse(good(screenshot=base64.b64encode(jpeg).decode())).screenshot == jpeg
    for bad, why in (
        ("@@@", "not base64"),
        (base64.b64encode(b"GIF89a....").decode(), "not a JPEG"),
        (base64.b64encode(b"\xff\xd8\xff" + b"\x00" * MAX_SCREENSHOT).decode(), "200 KiB"),
        (12, "200 KiB"),
    ):
        hb = parse(good(screenshot=bad))
        assert hb.screenshot is None and why in hb.screenshot_refused and len(hb.plays) == 1


def test_a_title_that_is_not_sane_text_is_dropped():
    doc = good()
    doc["health"]["display"]["current_item"]["title"] = "\x1b[31mđỏ"
    assert parse(doc).current_title is None
    doc["health"]["display"]["current_item"]["title"] = "x" * 301
    assert parse(doc).current_title is None


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@given(
    st.fixed_dictionaries(
        {},
        optional={
            "device_id": st.sampled_from([DEVICE, "x"]) | json_values,
            "sent_at": st.sampled_from(["2026-12-02T08:30:00Z"]) | json_values,
            "health": st.fixed_dictionaries(
                {"status": st.sampled_from(["ok", "bad"])},
                optional={"problems": json_values, "display": json_values},
            )
            | json_values,
            "plays": st.lists(json_values, max_size=3) | json_values,
            "done": json_values,
            "screenshot": json_values,
        },
    )
)
def test_any_json_is_taken_or_refused_and_nothing_else(doc):
    try:
        parse_heartbeat(json.dumps(doc).encode(), DEVICE)
    except HeartbeatInvalid as exc:
        assert len(str(exc)) < 400
