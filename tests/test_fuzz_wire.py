"""Fuzzing the wire (issue 14): hostile HTTP replies to the source adapter, the sync, the
heartbeat and the fleet reader, from a real server on 127.0.0.1 that sends whatever bytes
hypothesis chooses: any status, `Date`, `ETag`, `Content-Length` that lies,
`Content-Encoding`, bodies oversized, malformed or trickled.

The properties: nothing raises but the defined errors, every call ends within its deadline,
nothing kept is larger than its bound, and nothing a board sent reaches a terminal raw.
CI runs a fixed set of examples (the "ci" profile); HYPOTHESIS_PROFILE=fuzz hunts longer.
"""

from __future__ import annotations

import copy
import gzip
import json
import time
import zlib
from datetime import UTC, datetime

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kiosk.board.clock import SourceClock
from kiosk.board.heartbeat import MAX_REPLY_BYTES
from kiosk.board.source import MAX_ETAG_CHARS, MAX_MANIFEST_BYTES, HttpSource, SourceError
from kiosk.board.store import Store
from kiosk.board.sync import Syncer
from kiosk.core.health import PROBLEM_CODES
from kiosk.core.inventory import parse_inventory
from kiosk.core.signing import public_key_text, raw_public_key, sign_envelope
from kiosk.technician.fleetcmd import Check, _board_json, _csv_row, _status_row, summary
from kiosk.technician.statuscmd import ask, health_shaped, row, table
from tests.fleetboards import recorded
from tests.rawhttp import RawServer, Reply
from tests.test_fuzz import json_values

WIRE = settings(
    max_examples=settings.default.max_examples,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
KEY = Ed25519PrivateKey.generate()
PUBLIC = public_key_text(raw_public_key(KEY))
NOW = datetime.now(UTC).replace(microsecond=0)
MANIFEST = {
    "format": 1,
    "channel": "tinh-08",
    "sequence": 7,
    "issued_at": NOW.isoformat(),
    "expires_at": NOW.replace(year=NOW.year + 1).isoformat(),
    "items": [{"id": "a", "type": "text", "title": "Thông báo"}],
}
GENUINE = sign_envelope(json.dumps(MANIFEST).encode(), KEY)
DEADLINE_S = 1.0  # the manifest's, scaled down from 60 s
READ_S = 0.5
BOUND_S = DEADLINE_S + READ_S + 2.5  # connect, one last read, and this machine's slack


@pytest.fixture(scope="module")
def raw():
    server = RawServer()
    yield server
    server.stop()


# -- replies ----------------------------------------------------------------------------------

STATUS_LINES = [
    b"HTTP/1.1 200 OK",
    b"HTTP/1.1 304 Not Modified",
    b"HTTP/1.1 206 Partial Content",
    b"HTTP/1.1 400 Bad Request",
    b"HTTP/1.1 403 Forbidden",
    b"HTTP/1.1 416 Range Not Satisfiable",
    b"HTTP/1.1 500 Internal Server Error",
    b"HTTP/1.1 999 Whatever",
    b"HTTP/1.0 200 OK",
    b"HTTP/1.1 20x OK",
    b"HTTP/9.9 200 OK",
    b"\x16\x03\x01\x02\x00",  # a TLS server spoken to in plain HTTP
    b"",
]
DATES = [
    "Mon, 23 Nov 2026 02:00:00 GMT",
    "Fri, 31 Dec 9999 23:59:59 GMT",
    "Thu, 01 Jan 1970 00:00:00 GMT",
    "Fri, 31 Dec 99999999999 23:59:59 GMT",
    "yesterday",
    "Mon, 23 Nov 2026 02:00:00 +9999",
    "x" * 5000,
]
ETAGS = ['"abc"', 'W/"1-2"', '"' + "x" * 16_000 + '"', '"a\x01b"', "", "   "]
ENCODINGS = ["gzip", "deflate", "br", "identity", "x-nonsense", "gzip, gzip"]
RANGES = ["bytes 0-9/1000", "bytes */1000", "bytes a-b/c", "bytes 5-2/1"]


@st.composite
def bodies(draw) -> bytes:
    kind = draw(st.sampled_from(["genuine", "gzip", "binary", "json", "braces", "huge", "empty"]))
    if kind == "genuine":
        return GENUINE
    if kind == "gzip":
        return gzip.compress(draw(st.sampled_from([GENUINE, b"\0" * 3_000_000])))
    if kind == "binary":
        return draw(st.binary(max_size=400))
    if kind == "json":
        return json.dumps(draw(json_values)).encode()
    if kind == "braces":
        return b"[" * draw(st.integers(1, 200_000))
    if kind == "huge":
        return b" " * (MAX_MANIFEST_BYTES + draw(st.integers(1, 100)))
    return b""


@st.composite
def replies(draw, body_strategy=None) -> Reply:
    body = draw(body_strategy if body_strategy is not None else bodies())
    lines = [draw(st.sampled_from(STATUS_LINES))]
    length = draw(st.sampled_from(["right", "less", "more", "none", "negative", "garbage", "huge"]))
    lengths = {
        "right": str(len(body)),
        "less": str(max(0, len(body) - 7)),
        "more": str(len(body) + 1000),
        "negative": "-1",
        "garbage": "12abc",
        "huge": str(10**18),
    }
    if length in lengths:
        lines.append(f"Content-Length: {lengths[length]}".encode())
    for name, values in (
        ("Date", DATES),
        ("ETag", ETAGS),
        ("Content-Encoding", ENCODINGS),
        ("Content-Range", RANGES),
        ("Content-Type", ["application/json", "text/html", "x" * 3000]),
        ("Location", ["/elsewhere", "http://10.0.0.1/", "file:///etc/passwd"]),
    ):
        if draw(st.booleans()):
            lines.append(f"{name}: {draw(st.sampled_from(values))}".encode())
    if draw(st.integers(0, 9)) == 0:
        lines.append(b"X-Long: " + b"y" * 70_000)  # past any sane header line
    if draw(st.integers(0, 9)) == 0:
        lines.append(b"Transfer-Encoding: chunked")
    pieces = draw(st.sampled_from([1, 1, 2, 5]))
    gap = draw(st.sampled_from([0.0, 0.0, 0.01, 0.05]))
    return Reply(b"\r\n".join(lines), body, pieces, gap)


def serve(raw: RawServer, reply: Reply) -> None:
    raw.reply = reply


# -- the source adapter and the sync ----------------------------------------------------------


@WIRE
@given(reply=replies(), etag=st.sampled_from([None, '"abc"']))
def test_any_reply_to_a_manifest_fetch_is_a_manifest_or_a_defined_error_in_time(raw, reply, etag):
    serve(raw, reply)
    source = HttpSource(
        raw.url, "08-02263-01", connect_timeout=1, read_timeout=READ_S, manifest_deadline=DEADLINE_S
    )
    started = time.monotonic()
    try:
        fetched = source.fetch_manifest("tinh-08", etag)
    except SourceError as exc:
        assert exc.code in PROBLEM_CODES and len(str(exc)) < 600
    else:
        assert fetched.body is None or len(fetched.body) <= MAX_MANIFEST_BYTES
        assert fetched.etag is None or (
            len(fetched.etag) <= MAX_ETAG_CHARS and fetched.etag.isprintable()
        )
        assert fetched.server_time is None or fetched.server_time.tzinfo is not None
    finally:
        source.close()
    assert time.monotonic() - started < BOUND_S


@WIRE
@given(reply=replies(), have=st.sampled_from([0, 10]))
def test_any_reply_to_an_asset_fetch_keeps_at_most_the_manifests_size(
    raw, tmp_path_factory, reply, have
):
    serve(raw, reply)
    partial = tmp_path_factory.mktemp("asset") / "partial"
    partial.write_bytes(b"p" * have)
    source = HttpSource(raw.url, "08-02263-01", connect_timeout=1, read_timeout=READ_S)
    started = time.monotonic()
    try:
        source.fetch_asset("0" * 64, 1000, partial)
    except SourceError as exc:
        assert exc.code in PROBLEM_CODES
    finally:
        source.close()
    assert not partial.exists() or partial.stat().st_size <= 1000
    assert time.monotonic() - started < 60 + 1000 / 16384 + READ_S + 3


@WIRE
@given(reply=replies())
def test_a_sync_against_any_reply_keeps_what_the_board_had(raw, tmp_path_factory, reply):
    """The board holds a genuine sequence 7; no reply can take it away or raise."""
    root = tmp_path_factory.mktemp("board")
    store = Store(root, min_free=0)
    store.prepare()
    serve(raw, Reply(b"HTTP/1.1 200 OK\r\nContent-Length: %d" % len(GENUINE), GENUINE))
    source = HttpSource(
        raw.url, "08-02263-01", connect_timeout=1, read_timeout=READ_S, manifest_deadline=DEADLINE_S
    )
    clock = SourceClock(synchronized=lambda: False)
    syncer = Syncer(source, store, ["tinh-08"], [PUBLIC], (320, 180), clock)
    with store.locked(5):
        assert syncer.sync().ok
    serve(raw, reply)
    with store.locked(5):
        report = syncer.sync()
    source.close()
    (channel,) = report.channels
    assert channel.sequence == 7 and {p.code for p in channel.problems} <= set(PROBLEM_CODES)
    assert [i.id for c in syncer.load_content().channels for i in c.items] == ["a"]
    clock.now()  # whatever Date came, the clock still answers


# -- the heartbeat ----------------------------------------------------------------------------


@WIRE
@given(reply=replies())
def test_any_reply_to_a_heartbeat_is_taken_or_refused_and_costs_at_most_64_kib(
    raw, tmp_path_factory, reply
):
    from tests.test_heartbeat import heartbeat

    serve(raw, reply)
    hb = heartbeat(tmp_path_factory.mktemp("plays"), raw.url + "/hb")
    hb.reply_deadline_s = DEADLINE_S
    started = time.monotonic()
    ok = hb._send([])
    assert isinstance(ok, bool) and len(hb.reply) <= MAX_REPLY_BYTES
    assert time.monotonic() - started < 5 + 15 + DEADLINE_S
    hb.session.close()


# -- the fleet reader -------------------------------------------------------------------------

INVENTORY = (
    "device_id,health_url,unit_name,unit_kind,province_code,commune_code,district,installed_on\n"
    "08-02263-01,http://127.0.0.1:9,UBND xã Tân Trào,xa,08,02263,Sơn Dương,2024-04-16\n"
)
PATHS = [
    (),
    ("status",),
    ("device",),
    ("device", "id"),
    ("device", "unit_name"),
    ("problems",),
    ("display",),
    ("display", "current_item"),
    ("sync",),
    ("sync", "last_success_at"),
    ("system",),
    ("system", "cpu_temp_c"),
    ("version",),
]


@st.composite
def health_documents(draw) -> dict:
    """The recorded /health of a real kiosk, with values replaced at random places."""
    doc = copy.deepcopy(recorded("08-02263-01", "UBND xã Tân Trào"))
    for _ in range(draw(st.integers(0, 4))):
        path = draw(st.sampled_from(PATHS))
        value = draw(
            json_values
            | st.sampled_from(["\x1b[31m=cmd\x07", "=1+1", "-@x", "\ud800", "ok", "failing"])
        )
        if not path:
            doc = value if isinstance(value, dict) else doc
            continue
        target = doc
        for key in path[:-1]:
            target = target.get(key) if isinstance(target, dict) else None
        if isinstance(target, dict):
            target[path[-1]] = value
    return doc


@WIRE
@given(
    doc=health_documents(),
    status=st.sampled_from([b"200 OK", b"503 Service Unavailable", b"500 Oops"]),
    encoding=st.sampled_from([None, "gzip", "deflate"]),
    pieces=st.sampled_from([1, 3]),
)
def test_any_health_document_is_reported_or_not_a_kiosk_and_nothing_raw_reaches_a_terminal(
    raw, doc, status, encoding, pieces
):
    body = json.dumps(doc).encode()
    head = b"HTTP/1.1 " + status
    if encoding is not None:  # a board should not, and is not believed when it does
        body = gzip.compress(body) if encoding == "gzip" else zlib.compress(body)
        head += b"\r\nContent-Encoding: " + encoding.encode()
    serve(raw, Reply(head + b"\r\nContent-Length: %d" % len(body), body, pieces, 0.01))
    started = time.monotonic()
    answer = ask(raw.url + "/health", timeout=1.0)
    assert time.monotonic() - started < 1.0 + 2
    assert (answer.doc is None) == (answer.error is not None)
    assert answer.doc is None or health_shaped(answer.doc)
    (board,) = parse_inventory(INVENTORY)
    check = Check(board, answer)
    printed = table(("board", "a", "b", "c", "d", "e", "f"), [row(answer)]) + "\n"
    printed += table(tuple("abcdefghi"), [_status_row(check)]) + "\n" + summary([check])
    assert not any(ord(c) < 32 and c != "\n" for c in printed), repr(printed)
    cells = [v for v in _csv_row(check).values() if isinstance(v, str)]
    assert not [c for c in cells if c.startswith(("=", "+", "@"))]
    json.dumps(_board_json(check))
