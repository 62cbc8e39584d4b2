"""The sync against a real HTTP source on 127.0.0.1: what a board accepts, what it refuses,
what it keeps, and what it writes."""

from __future__ import annotations

import io
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from PIL import Image

from kiosk.board.clock import SourceClock
from kiosk.board.content import Content
from kiosk.board.source import HttpSource
from kiosk.board.store import Store
from kiosk.board.sync import Syncer, SyncReport
from kiosk.core.model import ImageItem
from kiosk.core.schedule import rotation_at
from kiosk.core.signing import sign_envelope
from tests.province import Province, image, noise_png, png_bomb, png_bytes, sha, text, ticker

SCREEN = (320, 180)
VN = ZoneInfo("Asia/Ho_Chi_Minh")
CH = "tinh-08"


@dataclass
class Board:
    store: Store
    clock: SourceClock
    syncer: Syncer

    def sync(self) -> SyncReport:
        with self.store.locked(5):
            return self.syncer.sync()

    def content(self) -> Content:
        return self.syncer.load_content()

    def item_ids(self) -> list[str]:
        return [i.id for ch in self.content().channels for i in ch.items]


def make_board(
    root: Path,
    province: Province,
    channels=(CH,),
    min_free=0,
    wall=None,
    screen=SCREEN,
    deadline=60.0,
) -> Board:
    store = Store(root, min_free=min_free)
    # The system clock's NTP state is pinned: the tests' Date headers matter on any machine
    clock = (
        SourceClock(wall, synchronized=lambda: False)
        if wall
        else SourceClock(synchronized=lambda: False)
    )
    source = HttpSource(
        province.url, "08-02263-01", connect_timeout=1, read_timeout=1, manifest_deadline=deadline
    )
    syncer = Syncer(source, store, channels, [province.public_key], screen, clock)
    return Board(store, clock, syncer)


@pytest.fixture
def board(tmp_path, province) -> Board:
    return make_board(tmp_path / "board", province)


def tree(root: Path) -> dict[str, tuple[int, int, int]]:
    """Every file under root with its size, mtime and inode: any write changes it."""
    return {
        str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns, p.stat().st_ino)
        for p in sorted(root.rglob("*"))
        if p.is_file()
    }


def codes(report: SyncReport) -> set[str]:
    return {p.code for c in report.channels for p in c.problems} | {p.code for p in report.problems}


def seeded(province: Province, board: Board) -> dict:
    """A first good publication, synced: what the bad cases must leave on screen."""
    doc = province.publish(CH, [text("a"), image("b", province.asset(png_bytes())), ticker("c")])
    report = board.sync()
    assert report.ok and board.item_ids() == ["a", "b", "c"]
    return doc


# -- the good path --------------------------------------------------------------------------


def test_first_sync_stores_verified_content_and_prescaled_images(province, board):
    big = png_bytes((1600, 1200), (10, 120, 200))
    province.publish(CH, [text("a"), image("b", province.asset(big)), ticker("c")])
    report = board.sync()
    assert report.ok, report
    assert report.channels[0].changed and report.channels[0].sequence == 1
    content = board.content()
    items = content.channels[0].items
    assert [i.id for i in items] == ["a", "b", "c"]
    img = next(i for i in items if isinstance(i, ImageItem))
    shown = content.assets.path(img.asset.sha256)
    assert shown is not None and shown.parent.name == "derived"
    with Image.open(shown) as pre:  # the player never decodes the 1600x1200 original
        assert pre.size == (320, 240)
    assert (board.store.assets / sha(big)).read_bytes() == big


def test_nothing_new_means_only_304s_no_asset_download_and_no_write(province, board):
    seeded(province, board)
    before = tree(board.store.root)
    province.server.requests.clear()
    report = board.sync()
    assert report.ok and not report.channels[0].changed
    assert [(r.path, r.status) for r in province.server.requests] == [
        (f"/channels/{CH}/manifest.json", 304)
    ]
    assert "If-None-Match" in province.server.requests[0].headers
    assert tree(board.store.root) == before


def test_one_changed_item_downloads_that_items_asset_alone(province, board):
    keep = province.asset(png_bytes(colour=(1, 2, 3)))
    old = province.asset(png_bytes(colour=(4, 5, 6)))
    province.publish(CH, [image("keep", keep), image("swap", old), text("t")])
    assert board.sync().ok
    province.server.requests.clear()
    new = province.asset(png_bytes(colour=(7, 8, 9)))
    province.publish(CH, [image("keep", keep), image("swap", new), text("t")])
    report = board.sync()
    assert report.ok and report.channels[0].changed
    assert [r.path for r in province.server.gets("/assets/")] == [f"/assets/{new['sha256']}"]
    assert board.content().assets.path(new["sha256"]) is not None


def test_user_agent_names_version_and_device(province, board):
    seeded(province, board)
    agent = province.server.requests[0].headers["User-Agent"]
    assert agent.startswith("kiosk/") and agent.endswith("(08-02263-01)")


def test_unchanged_sequence_with_other_bytes_is_the_same_content(province, board):
    seeded(province, board)
    province.publish(CH, [text("other")], sequence=1)
    report = board.sync()
    assert report.ok and not report.channels[0].changed
    assert board.item_ids() == ["a", "b", "c"]
    province.server.requests.clear()
    board.sync()  # its ETag was remembered: the next poll is a 304
    assert [r.status for r in province.server.requests] == [304]


def test_two_channels_keep_the_configured_order(tmp_path, province):
    board = make_board(tmp_path / "b", province, channels=("xa-02263", CH))
    province.publish(CH, [text("province")])
    province.publish("xa-02263", [text("commune")])
    assert board.sync().ok
    assert board.item_ids() == ["commune", "province"]


def test_a_channel_not_yet_published_is_reported_and_the_others_play(tmp_path, province):
    board = make_board(tmp_path / "b", province, channels=(CH, "xa-99999"))
    province.publish(CH, [text("a")])
    report = board.sync()
    assert not report.ok
    assert report.channels[0].current
    assert [p.code for p in report.channels[1].problems] == ["sync_failing"]
    assert "404" in report.channels[1].problems[0].message
    assert board.item_ids() == ["a"]


# -- refused manifests: the board keeps what it had -------------------------------------------


def _bad_manifests(province: Province) -> dict[str, tuple[bytes, str]]:
    good = province.payload(CH, [text("x")], sequence=5)
    raw = json.dumps(good).encode()
    env = json.loads(sign_envelope(raw, province.key))
    tampered = dict(env, payload=env["payload"][:-8] + "AAAAAAA=")
    stranger = Ed25519PrivateKey.generate()
    signed = lambda doc: sign_envelope(json.dumps(doc).encode(), province.key)  # noqa: E731
    return {
        "bad signature": (json.dumps(tampered).encode(), "signature_invalid"),
        "unknown key": (sign_envelope(raw, stranger), "signature_invalid"),
        "wrong payloadType": (
            json.dumps(dict(env, payloadType="application/json")).encode(),
            "manifest_invalid",
        ),
        "another channel": (signed(dict(good, channel="xa-02263")), "manifest_invalid"),
        "format 2": (signed(dict(good, format=2)), "manifest_invalid"),
        "invalid JSON": (b'{"payloadType": "application/vnd.kiosk', "manifest_invalid"),
        "payload not JSON": (sign_envelope(b"{not json", province.key), "manifest_invalid"),
        "no signatures": (json.dumps(dict(env, signatures=[])).encode(), "signature_invalid"),
        "payload not ASCII": (  # found by fuzzing: this escaped as a bare ValueError
            json.dumps(dict(env, payload="\u0080" + env["payload"][1:])).encode(),
            "manifest_invalid",
        ),
        "nested too deeply": (b"[" * 1_000_000, "manifest_invalid"),
        "payload nested too deeply": (
            sign_envelope(b"[" * 100_000, province.key),
            "manifest_invalid",
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "bad signature",
        "unknown key",
        "wrong payloadType",
        "another channel",
        "format 2",
        "invalid JSON",
        "payload not JSON",
        "no signatures",
        "payload not ASCII",
        "nested too deeply",
        "payload nested too deeply",
    ],
)
def test_refused_manifest_keeps_the_last_good_content(province, board, case):
    seeded(province, board)
    before = tree(board.store.root)
    envelope, code = _bad_manifests(province)[case]
    province.write_envelope(CH, envelope)
    report = board.sync()
    assert codes(report) == {code}, report
    assert not report.ok and report.channels[0].sequence == 1
    assert board.item_ids() == ["a", "b", "c"]
    assert tree(board.store.root) == before  # nothing unverified was stored


def test_rollback_is_rejected(province, board):
    province.publish(CH, [text("new")], sequence=9)
    assert board.sync().ok
    province.publish(CH, [text("old")], sequence=8)  # a replay of an older, validly signed one
    report = board.sync()
    assert codes(report) == {"rollback_rejected"}
    assert "sequence 8 is older than the 9" in report.channels[0].problems[0].message
    assert board.item_ids() == ["new"]


def test_a_manifest_over_2_mib_is_rejected_without_reading_it_all(province, board):
    seeded(province, board)
    filler = [text(f"t{n}", body="x" * 4900) for n in range(500)]
    doc = province.payload(CH, [], padding="y" * (3 * 1024 * 1024))
    doc["items"] = filler[:10]
    province.write_envelope(CH, sign_envelope(json.dumps(doc).encode(), province.key))
    assert (province.site / "channels" / CH / "manifest.json").stat().st_size > 3 * 1024 * 1024
    report = board.sync()
    assert codes(report) == {"manifest_invalid"}
    assert "2 MiB" in report.channels[0].problems[0].message
    assert board.item_ids() == ["a", "b", "c"]


def test_an_item_of_unknown_type_is_skipped_alone(province, board):
    province.publish(CH, [text("a"), {"id": "v", "type": "video"}, ticker("c")])
    report = board.sync()
    assert codes(report) == {"item_invalid"}
    assert report.ok  # the board holds the source's latest content; the item is the author's
    assert "'v' (#2): field 'type'" in report.channels[0].problems[0].message
    assert board.item_ids() == ["a", "c"]


# -- refused assets: the item waits, nothing unverified is stored ------------------------------


def _asset_case(province: Province, case: str) -> dict:
    good = png_bytes(colour=(9, 9, 9))
    if case == "hash mismatch":
        ref = province.asset(good)
        (province.site / "assets" / ref["sha256"]).write_bytes(png_bytes(colour=(8, 8, 8)))
        return ref
    if case == "size mismatch":
        return dict(province.asset(good), size=len(good) + 10)
    if case == "not an image":
        return province.asset(b"<html>not an image</html>" * 10)
    if case == "media type mismatch":
        return dict(province.asset(good), media_type="image/jpeg")
    if case == "decompression bomb":
        return province.asset(png_bomb())
    if case == "over 50 megapixels":
        out = io.BytesIO()
        Image.new("L", (7100, 7100)).save(out, "JPEG")
        return province.asset(out.getvalue(), "image/jpeg")
    if case == "missing on the source":
        return {"sha256": "0" * 64, "size": 100, "media_type": "image/png"}
    raise AssertionError(case)


@pytest.mark.parametrize(
    "case",
    [
        "hash mismatch",
        "size mismatch",
        "not an image",
        "media type mismatch",
        "decompression bomb",
        "over 50 megapixels",
        "missing on the source",
    ],
)
def test_bad_asset_skips_its_item_and_is_never_stored(province, board, case):
    ref = _asset_case(province, case)
    province.publish(CH, [text("a"), image("bad", ref), ticker("c")])
    report = board.sync()
    assert codes(report) == {"asset_invalid"}, report
    assert "item bad" in report.channels[0].problems[0].message
    assert board.item_ids() == ["a", "c"]  # the manifest stands; only the item waits
    assert not list(board.store.assets.iterdir())
    assert not list(board.store.derived.iterdir())
    assert not list(board.store.partial.iterdir())


def test_a_bad_asset_is_tried_again_and_shows_once_fixed(province, board):
    data = png_bytes(colour=(3, 3, 3))
    ref = province.asset(data)
    path = province.site / "assets" / ref["sha256"]
    path.write_bytes(b"garbage")
    province.publish(CH, [image("img", ref)])
    assert codes(board.sync()) == {"asset_invalid"}
    path.write_bytes(data)  # the province fixes its server
    report = board.sync()
    assert report.ok and board.item_ids() == ["img"]


def test_truncated_download_shows_the_new_text_then_resumes_the_photo_with_range(province, board):
    seeded(province, board)
    data = noise_png(1)
    ref = province.asset(data)
    province.publish(CH, [text("new"), image("photo", ref)])
    province.server.faults[f"/assets/{ref['sha256']}"] = ["truncate"]
    report = board.sync()
    assert codes(report) == {"asset_invalid"}
    assert "item photo" in report.channels[0].problems[0].message
    # the new manifest stands; only the photo waits (it is never shown half there)
    assert board.item_ids() == ["new"]
    assert not (board.store.assets / ref["sha256"]).exists()
    partial = board.store.partial_path(ref["sha256"])
    assert 0 < partial.stat().st_size < len(data)
    have = partial.stat().st_size
    province.server.requests.clear()
    report = board.sync()
    assert report.ok and board.item_ids() == ["new", "photo"]
    (resume,) = province.server.gets("/assets/")
    assert resume.headers.get("Range") == f"bytes={have}-" and resume.status == 206
    assert (board.store.assets / ref["sha256"]).read_bytes() == data


# -- a source that misbehaves: the board keeps playing ----------------------------------------


@pytest.mark.parametrize(
    ("fault", "words"),
    [
        ("hang", "stopped answering for 1 s"),
        ("500", "HTTP 500"),
        ("reset", "connection"),
        ("redirect", "redirects"),
    ],
)
def test_misbehaving_source_is_sync_failing_and_content_stays(province, board, fault, words):
    seeded(province, board)
    province.publish(CH, [text("new")])
    province.server.faults[f"/channels/{CH}/manifest.json"] = [fault] * 10
    started = time.monotonic()
    report = board.sync()
    assert time.monotonic() - started < 5  # a hanging source never holds the board for long
    assert codes(report) == {"sync_failing"}
    assert words in report.channels[0].problems[0].message
    assert board.item_ids() == ["a", "b", "c"]


def test_a_source_that_is_down_is_sync_failing(tmp_path, province):
    province.publish(CH, [text("a")])
    board = make_board(tmp_path / "b", province)
    province.server.stop()
    report = board.sync()
    assert codes(report) == {"sync_failing"}
    assert "connection failed" in report.channels[0].problems[0].message


def test_disk_low_refuses_the_download_but_text_still_arrives(tmp_path, province):
    board = make_board(tmp_path / "b", province, min_free=10**15)  # more than any disk
    ref = province.asset(png_bytes())
    province.publish(CH, [text("urgent", priority="emergency"), image("img", ref)])
    province.server.requests.clear()
    report = board.sync()
    assert codes(report) == {"disk_low"}
    assert not province.server.gets("/assets/")  # refused before a byte was fetched
    assert board.item_ids() == ["urgent"]


# -- clock and expiry -------------------------------------------------------------------------


def test_clock_far_off_is_unsynced_and_schedules_by_the_sources_time(tmp_path, province):
    behind = timedelta(days=2)  # a board that booted without network or RTC
    board = make_board(tmp_path / "b", province, wall=lambda: datetime.now(UTC) - behind)
    start = datetime.now(UTC) - timedelta(hours=1)
    province.publish(CH, [text("today", valid_from=start.isoformat())])
    report = board.sync()
    assert codes(report) == {"clock_unsynced"}
    assert report.clock_skew_s == pytest.approx(behind.total_seconds(), abs=5)
    content = board.content()
    assert not rotation_at(content.channels, board.clock.wall(), VN).slides
    assert [e.item.id for e in rotation_at(content.channels, board.clock.now(), VN).slides] == [
        "today"
    ]


def test_a_clock_a_little_off_is_trusted(tmp_path, province):
    board = make_board(
        tmp_path / "b", province, wall=lambda: datetime.now(UTC) - timedelta(seconds=100)
    )
    province.publish(CH, [text("a")])
    report = board.sync()
    assert codes(report) == set()
    assert not board.clock.unsynced


def test_expired_manifest_stops_its_emergencies_and_plays_the_rest(province, board):
    now = datetime.now(UTC).replace(microsecond=0)
    province.publish(
        CH,
        [text("flood", priority="emergency"), text("notice")],
        issued_at=(now - timedelta(days=20)).isoformat(),
        expires_at=(now - timedelta(days=6)).isoformat(),
    )
    report = board.sync()
    assert codes(report) == {"manifest_expired"}
    assert report.ok  # the board holds the latest; it is the province's to renew
    rotation = rotation_at(board.content().channels, datetime.now(UTC), VN)
    assert [e.item.id for e in rotation.slides] == ["notice"] and not rotation.emergency


# -- the cache survives --------------------------------------------------------------------------


def test_a_restart_offline_plays_the_last_good_content(tmp_path, province):
    seeded(province, make_board(tmp_path / "b", province))
    province.server.stop()
    again = make_board(tmp_path / "b", province)  # a new process, no network
    assert [i.id for ch in again.content().channels for i in ch.items] == ["a", "b", "c"]


def test_a_key_no_longer_configured_stops_the_stored_content(tmp_path, province):
    seeded(province, make_board(tmp_path / "b", province))
    other = make_board(tmp_path / "b", province)
    other.syncer.public_keys = (Province(tmp_path / "other").public_key,)
    assert other.content().channels == ()


def test_garbage_goes_after_the_grace_period_only(province, board):
    old = province.asset(png_bytes(colour=(1, 1, 1)))
    province.publish(CH, [image("img", old)])
    assert board.sync().ok
    new = province.asset(png_bytes(colour=(2, 2, 2)))
    province.publish(CH, [image("img", new)])
    assert board.sync().ok
    keep = board.syncer.keep_set()
    t0 = time.time()
    assert board.store.collect_garbage(keep, t0, grace_s=3600) == 0
    assert board.store.has_asset(old["sha256"], old["size"])
    assert board.store.collect_garbage(keep, t0 + 3599, grace_s=3600) == 0
    assert board.store.collect_garbage(keep, t0 + 3600, grace_s=3600) == 2  # asset + derived
    assert not board.store.has_asset(old["sha256"], old["size"])
    assert board.store.has_asset(new["sha256"], new["size"])
    assert board.item_ids() == ["img"]


def test_a_new_screen_size_shows_the_old_copies_until_new_ones_are_made(tmp_path, province):
    ref = province.asset(png_bytes((1600, 900)))
    province.publish(CH, [image("img", ref)])
    assert make_board(tmp_path / "b", province).sync().ok
    bigger = make_board(tmp_path / "b", province, screen=(1280, 720))
    before = bigger.content().assets.path(ref["sha256"])
    assert before is not None and before.name.endswith("-320x180.png")  # never the original
    province.server.requests.clear()
    assert bigger.sync().ok
    assert not province.server.gets("/assets/")  # made from the stored original
    after = bigger.content().assets.path(ref["sha256"])
    assert after is not None and after.name.endswith("-1280x720.png")
    with Image.open(after) as img:
        assert img.size == (1280, 720)
