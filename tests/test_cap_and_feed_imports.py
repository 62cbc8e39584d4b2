"""kiosk province import-cap and import-feed (SPEC 7.2) as a province runs them: a CAP 1.2
alert and an RSS/Atom feed served on loopback become the expected bulletins waiting for an
approver, a second run creates nothing, a Cancel withdraws the alert from the boards, and
hostile or oversized XML is refused with exit 2 and nothing created. The parsers' rules
are tested pure below."""

from __future__ import annotations

import base64
import json
import threading
from datetime import UTC, datetime, timedelta
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from kiosk.province.bulletins.cap import match_area, parse_cap
from kiosk.province.bulletins.feeds import parse_feed
from kiosk.province.bulletins.htmltext import html_text
from kiosk.province.bulletins.xmlsafe import XmlRefused
from tests.provinceserver import ProvinceServer, inventory_row

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)


def cap(identifier: str = "KTTV-2026-1201", msg_type: str = "Alert", geocode: str = "02001",
        area: str = "Xã Số 1, huyện Sơn Dương", references: str = "",
        expires: str = "2036-12-03T18:00:00+07:00", status: str = "Actual",
        severity: str = "Extreme", sender: str = "kttv@nchmf.gov.vn",
        headline: str = "Cảnh báo lũ quét, sạt lở đất") -> bytes:  # fmt: skip
    refs = f"<references>{references}</references>" if references else ""
    code = f"<geocode><valueName>MA_XA</valueName><value>{geocode}</value></geocode>"
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2">
  <identifier>{identifier}</identifier>
  <sender>{sender}</sender>
  <sent>2026-12-02T09:00:00+07:00</sent>
  <status>{status}</status>
  <msgType>{msg_type}</msgType>
  <scope>Public</scope>
  {refs}
  <info>
    <language>en-US</language><category>Met</category><event>Flash flood</event>
    <urgency>Immediate</urgency><severity>{severity}</severity><certainty>Observed</certainty>
    <headline>Flash flood warning</headline>
  </info>
  <info>
    <language>vi-VN</language><category>Met</category><event>Lũ quét</event>
    <urgency>Immediate</urgency><severity>{severity}</severity><certainty>Observed</certainty>
    <expires>{expires}</expires>
    <headline>{headline}</headline>
    <description>Mưa lớn trên 200 mm trong 24 giờ qua; nguy cơ lũ quét rất cao.</description>
    <instruction>Di chuyển ngay người và tài sản khỏi vùng trũng, ven suối.</instruction>
    <area><areaDesc>{area}</areaDesc>{code if geocode else ""}</area>
  </info>
</alert>""".encode()


RSS = """<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Cổng thông tin xã Số 1</title>
<item><title>Lịch tiếp công dân tháng 12</title><guid>https://xa.example/tin/1</guid>
<description>&lt;p&gt;Chủ tịch UBND xã tiếp công dân &amp;amp; tổ chức&lt;/p&gt;
&lt;script&gt;alert(1)&lt;/script&gt;&lt;p&gt;vào sáng thứ Năm.&lt;/p&gt;</description></item>
<item><title>Thông báo thu thuế</title><link>https://xa.example/tin/2</link>
<description>Nộp thuế trước ngày 20.</description></item>
<item><title>Tiêm chủng mở rộng</title><guid>https://xa.example/tin/3</guid>
<description><![CDATA[<b>Tiêm</b> vắc xin cho trẻ em<br>tại trạm y tế.]]></description></item>
</channel></rss>""".encode()

ATOM = """<?xml version="1.0" encoding="utf-8"?>
<feed xmlns="http://www.w3.org/2005/Atom"><title>Xã Số 2</title>
<entry><id>tag:xa2,2026:1</id><title>Họp dân khu phố</title>
<summary type="html">&lt;p&gt;Tối thứ Sáu, nhà văn hóa.&lt;/p&gt;</summary></entry>
</feed>""".encode()

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<alert xmlns="urn:oasis:names:tc:emergency:cap:1.2"><identifier>&lol3;</identifier></alert>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE rss [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<rss version="2.0"><channel><item><title>&xxe;</title><guid>x</guid></item></channel></rss>"""


# -- the parsers, pure --------------------------------------------------------------------
def test_a_cap_alert_is_read_in_vietnamese_with_its_area_and_expiry():
    alert = parse_cap(cap())
    assert alert.key == "kttv@nchmf.gov.vn,KTTV-2026-1201"
    assert alert.headline == "Cảnh báo lũ quét, sạt lở đất"  # the vi-VN info, not the first
    assert alert.expires == datetime(2036, 12, 3, 11, 0, tzinfo=UTC)
    assert alert.areas[0].geocodes == ("02001",)
    cancel = parse_cap(cap("C1", "Cancel", references="kttv@nchmf.gov.vn,KTTV-2026-1201,"
                           "2026-12-02T09:00:00+07:00"))  # fmt: skip
    assert cancel.references == ("kttv@nchmf.gov.vn,KTTV-2026-1201",)


def test_an_alerts_area_is_matched_by_geocode_then_by_name():
    communes = {"02001": "UBND xã Số 1", "02002": "UBND thị trấn Số 2"}
    assert match_area(parse_cap(cap()), communes, "08") == ("xa-02001",)
    by_name = parse_cap(cap(geocode="", area="Thị trấn  SỐ 2; vùng lân cận"))
    assert match_area(by_name, communes, "08") == ("xa-02002",)
    # issue 23, 7: an exact name, never a part of one (the alert for "xã Tân Trào" reached
    # "xã Tân" too), nor a name inside a sentence
    tan = {"02263": "UBND xã Tân Trào", "02264": "UBND xã Tân"}
    assert match_area(parse_cap(cap(geocode="", area="Xã Tân Trào")), tan, "08") == ("xa-02263",)
    assert match_area(parse_cap(cap(geocode="", area="xã Tân")), tan, "08") == ("xa-02264",)
    sentence = parse_cap(cap(geocode="", area="Thị trấn Số 2 và vùng lân cận"))
    assert match_area(sentence, communes, "08") == ()
    assert match_area(parse_cap(cap(geocode="0200", area="?")), communes, "08") == ()  # a part
    assert match_area(parse_cap(cap(geocode="08")), communes, "08") == ("tinh-08",)
    assert match_area(parse_cap(cap(geocode="99999", area="Nơi khác")), communes, "08") == ()


def test_feeds_give_their_entries_as_text_with_no_markup():
    rss = parse_feed(RSS)
    assert [e.title for e in rss] == ["Lịch tiếp công dân tháng 12", "Thông báo thu thuế",
                                      "Tiêm chủng mở rộng"]  # fmt: skip
    assert rss[0].text == "Chủ tịch UBND xã tiếp công dân & tổ chức\n\nvào sáng thứ Năm."
    assert rss[1].ref == "https://xa.example/tin/2"  # no guid: the link
    assert rss[2].text == "Tiêm vắc xin cho trẻ em\n\ntại trạm y tế."
    (atom,) = parse_feed(ATOM)
    assert atom.ref == "tag:xa2,2026:1" and atom.text == "Tối thứ Sáu, nhà văn hóa."
    assert html_text("<style>p{}</style>a<br/>b") == "a\n\nb"


@pytest.mark.parametrize(
    "data, why",
    [
        (BILLION_LAUGHS, "DTD"),
        (EXTERNAL, "DTD"),
        (b"<alert><unclosed></alert>", "not well-formed"),
        (b"<html><body>404</body></html>", "neither RSS nor Atom"),
        (b"<rss>" + b"<x>" * 100_000 + b"</rss>", ""),
        (b"<rss><channel>" + b"<item><title>t</title></item>" * 200_000 + b"</channel></rss>",
         "bytes"),
    ],
)  # fmt: skip
def test_hostile_feeds_are_refused_with_a_message(data, why):
    with pytest.raises(XmlRefused) as refused:
        parse_feed(data)
    assert why in str(refused.value)


def test_hostile_alerts_are_refused_with_a_message():
    for data in (BILLION_LAUGHS, RSS, cap().replace(b"cap:1.2", b"cap:1.0")):
        with pytest.raises(XmlRefused):
            parse_cap(data)
    with pytest.raises(XmlRefused, match=r"a CAP 1\.0 alert: only CAP 1\.2 and 1\.1 are read"):
        parse_cap(cap().replace(b"cap:1.2", b"cap:1.0"))


# -- the commands, against a real database and a real HTTP server on loopback -------------
@pytest.fixture
def province(tmp_path):
    p = ProvinceServer(tmp_path / "p", "sqlite", [inventory_row(n) for n in range(1, 4)])
    keygen = p.kiosk("keygen", "--out", str(p.root / "province.key"))
    assert keygen.returncode == 0, keygen.stderr
    p.register()
    return p


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def served(tmp_path):
    """A commune's website on loopback: any file of a folder."""
    root = tmp_path / "web"
    root.mkdir()
    server = ThreadingHTTPServer(("127.0.0.1", 0), partial(_Quiet, directory=str(root)))
    threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def run(p: ProvinceServer, *args: str):
    return p.kiosk("province", *args, "--config", str(p.config))


def bulletins(p: ProvinceServer) -> list[tuple]:
    return p.sql("SELECT state, priority, title, channels, valid_until, origin FROM "
                 "bulletins_bulletin ORDER BY id")  # fmt: skip


def publish_all(p: ProvinceServer) -> None:
    """What an approver's click does to the rows (the console is tested in test_console)."""
    for pk, title, body, channels in p.sql(
        "SELECT id, title, body, channels FROM bulletins_bulletin WHERE state = 'submitted'"
    ):
        item = {"id": f"bt-{pk}", "type": "text", "priority": "emergency", "duration": 30,
                "title": title, "body": body}  # fmt: skip
        aired = {"revision": 1, "item": item, "channels": json.loads(channels)}
        p.sql("UPDATE bulletins_bulletin SET state = 'published', aired = %s, published_at = "
              "CURRENT_TIMESTAMP WHERE id = %s", (json.dumps(aired), pk))  # fmt: skip


def test_a_cap_alert_becomes_an_emergency_waiting_for_approval_and_a_cancel_withdraws_it(
    province, served
):
    root, url = served
    (root / "alert.xml").write_bytes(cap())
    done = run(province, "import-cap", f"{url}/alert.xml")
    assert done.returncode == 0, done.stderr
    assert done.stdout == "xa-02001: Cảnh báo lũ quét, sạt lở đất\n"
    ((state, priority, _title, channels, until, origin),) = bulletins(province)
    assert (state, priority, origin) == ("submitted", "emergency", "cap")
    assert json.loads(channels) == ["xa-02001"] and until.startswith("2036-12-03 11:00")
    body = province.sql("SELECT body FROM bulletins_bulletin")[0][0]
    assert "200 mm" in body and "Di chuyển ngay" in body

    again = run(province, "import-cap", f"{url}/alert.xml")
    assert again.returncode == 0 and again.stdout == "" and len(bulletins(province)) == 1

    # an approver published it; the weather service cancels it: off the boards at once
    publish_all(province)
    (root / "cancel.xml").write_bytes(
        cap("KTTV-2026-1202", "Cancel",
            references="kttv@nchmf.gov.vn,KTTV-2026-1201,2026-12-02T09:00:00+07:00")
    )  # fmt: skip
    cancelled = run(province, "import-cap", str(root / "cancel.xml"))  # a file, this time
    assert cancelled.returncode == 0, cancelled.stderr
    assert cancelled.stdout == "withdrawn xa-02001: Cảnh báo lũ quét, sạt lở đất\n"
    assert bulletins(province)[0][0] == "withdrawn"
    envelope = json.loads((province.site_dir / "channels/xa-02001/manifest.json").read_bytes())
    assert json.loads(base64.b64decode(envelope["payload"]))["items"] == []
    assert run(province, "import-cap", str(root / "cancel.xml")).stdout == ""

    # an exercise is not shown; an area no board is in is the work failing (exit 1)
    (root / "test.xml").write_bytes(cap("T1", status="Exercise"))
    exercise = run(province, "import-cap", str(root / "test.xml"))
    assert exercise.returncode == 0 and exercise.stdout == "" and "Exercise" in exercise.stderr
    (root / "far.xml").write_bytes(cap("F1", geocode="99999", area="Tỉnh khác"))
    far = run(province, "import-cap", str(root / "far.xml"))
    assert far.returncode == 1 and "matches no commune" in far.stderr
    assert len(bulletins(province)) == 1


def test_a_cancel_or_update_acts_only_on_its_own_senders_alerts(province, served):
    """Issue 23, 2 and 6: a Cancel from any sender withdrew anybody's alert; an Update put a
    second bulletin on air beside the first."""
    root, _url = served
    first_ref = "kttv@nchmf.gov.vn,KTTV-2026-1201,2026-12-02T09:00:00+07:00"
    (root / "alert.xml").write_bytes(cap())
    assert run(province, "import-cap", str(root / "alert.xml")).returncode == 0
    publish_all(province)
    (root / "cancel.xml").write_bytes(cap("X-1", "Cancel", references=first_ref,
                                          sender="ke-gia@example.net"))  # fmt: skip
    forged = run(province, "import-cap", str(root / "cancel.xml"))
    assert forged.returncode == 1 and "another sender" in forged.stderr
    assert bulletins(province)[0][0] == "published"
    refused = province.sql("SELECT detail FROM bulletins_auditentry WHERE action = 'refused'")
    assert len(refused) == 1 and "ke-gia@example.net,X-1" in refused[0][0]
    (root / "update.xml").write_bytes(cap("X-2", "Update", references=first_ref,
                                          sender="ke-gia@example.net"))  # fmt: skip
    assert run(province, "import-cap", str(root / "update.xml")).returncode == 1
    assert len(bulletins(province)) == 1

    # the sender's own Update: a new revision of the same bulletin, not a second bulletin
    (root / "update.xml").write_bytes(cap("KTTV-2026-1203", "Update", references=first_ref,
                                          headline="Lũ quét: mực nước tiếp tục lên"))  # fmt: skip
    updated = run(province, "import-cap", str(root / "update.xml"))
    assert updated.returncode == 0, updated.stderr
    assert updated.stdout == "updated xa-02001: Lũ quét: mực nước tiếp tục lên\n"
    ((state, _p, title, _c, _u, _o),) = bulletins(province)
    assert (state, title) == ("submitted", "Lũ quét: mực nước tiếp tục lên")
    assert province.sql("SELECT revision FROM bulletins_bulletin") == [(2,)]
    assert run(province, "import-cap", str(root / "update.xml")).stdout == ""
    # a province that lists its senders refuses the others' alerts whole
    with province.config.open("a", encoding="utf-8") as f:
        f.write('\n[import]\ncap_senders = ["kttv@nchmf.gov.vn"]\n')
    (root / "other.xml").write_bytes(cap("O-1", sender="ai-do@example.net"))
    other = run(province, "import-cap", str(root / "other.xml"))
    assert other.returncode == 1 and "not in cap_senders" in other.stderr
    assert len(bulletins(province)) == 1


def test_a_feed_becomes_drafts_for_its_channel_once(province, served):
    root, url = served
    (root / "rss.xml").write_bytes(RSS)
    (root / "atom.xml").write_bytes(ATOM)
    done = run(province, "import-feed", f"{url}/rss.xml", "--channel", "xa-02001")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "xa-02001: Lịch tiếp công dân tháng 12",
        "xa-02001: Thông báo thu thuế",
        "xa-02001: Tiêm chủng mở rộng",
    ]
    assert run(province, "import-feed", f"{url}/rss.xml", "--channel", "xa-02001").stdout == ""
    atom = run(province, "import-feed", f"{url}/atom.xml", "--channel", "xa-02002")
    assert atom.stdout == "xa-02002: Họp dân khu phố\n"
    rows = bulletins(province)
    assert [r[0] for r in rows] == ["submitted"] * 4 and {r[1] for r in rows} == {"normal"}
    assert "script" not in str(province.sql("SELECT body FROM bulletins_bulletin"))


@pytest.mark.parametrize("name", ["laughs", "external", "huge", "broken", "huge-file"])
def test_hostile_or_oversized_xml_is_exit_2_and_creates_nothing(province, served, name):
    root, url = served
    data = {
        "laughs": BILLION_LAUGHS,
        "external": EXTERNAL,
        "huge": b"<rss><channel>" + b"<!-- padding -->" * 700_000 + b"</channel></rss>",
        "huge-file": b"<alert>" + b" " * (10 * 1024 * 1024) + b"</alert>",
        "broken": b"<rss><channel><item>",
    }[name]
    (root / "x.xml").write_bytes(data)
    where = str(root / "x.xml") if name == "huge-file" else f"{url}/x.xml"
    for args in (("import-cap", where), ("import-feed", where, "--channel", "xa-02001")):
        done = run(province, *args)
        assert done.returncode == 2, (args, done.stdout, done.stderr)
        assert done.stderr.startswith("error: nothing imported:") and done.stdout == ""
    assert bulletins(province) == []


class _Redirecting(SimpleHTTPRequestHandler):
    """A web server that answers /go/<n> with a redirect to the n-th of server.targets, and
    notes every path it is asked for."""

    def do_GET(self) -> None:
        self.server.asked.append(self.path)
        if self.path.startswith("/go/"):
            self.send_response(302)
            self.send_header("Location", self.server.targets[int(self.path[4:])])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def web(tmp_path):
    """Two web servers on loopback: 127.0.0.1 (the configured one) and 127.0.0.2 (another
    host of the server's own network)."""
    servers = []
    root = tmp_path / "web"
    root.mkdir()
    for host in ("127.0.0.1", "127.0.0.2"):
        server = ThreadingHTTPServer((host, 0), partial(_Redirecting, directory=str(root)))
        server.asked, server.targets = [], []
        threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True).start()
        servers.append(server)
    yield root, servers
    for server in servers:
        server.shutdown()
        server.server_close()


def test_importers_follow_no_redirect_into_the_servers_own_network(province, web):
    """Issue 23, 11: a feed's redirect led the server to fetch what only it can reach."""
    root, (configured, other) = web
    (root / "alert.xml").write_bytes(cap())
    base = f"http://127.0.0.1:{configured.server_address[1]}"
    configured.targets += [
        "http://169.254.169.254/latest/meta-data/",  # a cloud's metadata service
        f"http://127.0.0.2:{other.server_address[1]}/alert.xml",  # another internal host
        "http://10.1.2.3/admin",  # a router
        "/alert.xml",  # the configured host itself: followed
    ]
    for n, where in enumerate(("169.254.169.254", "127.0.0.2", "10.1.2.3")):
        refused = run(province, "import-cap", f"{base}/go/{n}")
        assert refused.returncode == 1, refused.stderr
        assert "server's own network" in refused.stderr and where in refused.stderr
    assert other.asked == [] and bulletins(province) == []  # nothing reached, nothing made
    followed = run(province, "import-cap", f"{base}/go/3")
    assert followed.returncode == 0, followed.stderr
    assert len(bulletins(province)) == 1


def test_outbound_fetches_check_every_address_before_and_after_connecting(web):
    from kiosk.province.bulletins.outbound import OutboundRefused, fetch, internal

    for address in (
        "127.0.0.1",
        "10.0.0.5",
        "172.16.0.1",
        "192.168.1.1",
        "169.254.169.254",
        "::1",
        "fe80::1",
        "fc00::1",
        "::ffff:10.0.0.1",
        "0.0.0.0",
        "224.0.0.1",
    ):
        assert internal(address), address  # fmt: skip
    for address in ("8.8.8.8", "2001:4860:4860::8888", "203.162.4.191"):
        assert not internal(address), address
    root, (configured, other) = web
    (root / "secret.txt").write_text("internal")
    configured.targets += [
        "http://feed.example/rss",
        f"http://127.0.0.2:{other.server_address[1]}/secret.txt",
    ]
    start = f"http://127.0.0.1:{configured.server_address[1]}/go/"
    # a redirect to a name that resolves into the server's network: refused before connecting
    names = {"feed.example": ["10.0.0.5"], "127.0.0.1": ["127.0.0.1"]}
    with pytest.raises(OutboundRefused, match=r"feed\.example/rss leads into"):
        fetch(start + "0", 1000, 5, resolver=lambda host, port: names[host])
    # a name that resolved to a public address, then connected inside (DNS rebinding):
    # refused before the body is read
    with pytest.raises(OutboundRefused, match=r"connected to 127\.0\.0\.2, inside"):
        fetch(start + "1", 1000, 5, resolver=lambda host, port: ["8.8.8.8"])  # the resolver lies
    assert other.asked == []  # refused once connected, before the request was sent


# -- what agencies really send (tests/data/cap/, made the way each publisher writes) -------
CAP_DATA = Path(__file__).parent / "data" / "cap"


def test_agencies_alerts_are_read_as_their_publishers_meant():
    """Issue 24, 5, 6 and 8: CAP 1.1 was refused as "not a CAP 1.2 alert"; HTML in a CAP
    description reached the screen as markup; a CAP alert inside an Atom entry became a
    bulletin of every element's text, signature digests included."""
    nws = parse_cap((CAP_DATA / "nws-cap11-flood-warning.xml").read_bytes())
    assert nws.headline.startswith("Flood Warning issued April 14") and nws.severity == "Moderate"
    assert nws.areas[0].geocodes == ("099001", "XXC001") and nws.expires is not None
    fire = parse_cap((CAP_DATA / "bushfire-html-description.xml").read_bytes())
    assert "<" not in fire.description and ">" not in fire.description
    assert fire.description.split("\n\n")[:2] == [
        "Nguy cơ cháy rừng cấp V (cực kỳ nguy hiểm)",
        "Đám cháy đang lan về phía thôn Cây Đa.",
    ]
    assert "Không vào rừng." in fire.description and "<br" not in fire.instruction
    plain_text = parse_cap(cap()).description
    assert plain_text == "Mưa lớn trên 200 mm trong 24 giờ qua; nguy cơ lũ quét rất cao."
    signed, other = parse_feed((CAP_DATA / "signed-cap-atom-feed.xml").read_bytes())
    assert signed.alert is not None and signed.alert.headline == "Cảnh báo mưa lớn diện rộng"
    assert "=" not in signed.text and "q0e8nd" not in signed.text
    assert other.alert is None and other.text == "Ngày mai trời nhiều mây."


def test_agencies_alerts_through_the_commands(province, served):
    root, url = served
    for name in (
        "bushfire-html-description.xml",
        "signed-cap-atom-feed.xml",
        "nws-cap11-flood-warning.xml",
        "no-expires-old.xml",
    ):
        (root / name).write_bytes((CAP_DATA / name).read_bytes())  # fmt: skip
    fire = run(province, "import-cap", f"{url}/bushfire-html-description.xml")
    assert fire.returncode == 0 and fire.stdout == "xa-02001: Cảnh báo cháy rừng cấp V\n"
    feed = run(province, "import-feed", f"{url}/signed-cap-atom-feed.xml", "--channel", "xa-02001")
    assert feed.returncode == 0, feed.stderr
    assert feed.stdout.splitlines() == [
        "xa-02002: Cảnh báo mưa lớn diện rộng",
        "xa-02001: Bản tin dự báo",
    ]
    bodies = [r[0] for r in province.sql("SELECT body FROM bulletins_bulletin ORDER BY id")]
    assert not any(c in b for b in bodies for c in "<>") and "q0e8nd" not in str(bodies)
    assert (
        bodies[1] == "Mưa 100 đến 200 mm trong 24 giờ tới."
        and bodies[2] == "Ngày mai trời nhiều mây."
    )
    nws = run(province, "import-cap", f"{url}/nws-cap11-flood-warning.xml")
    assert nws.returncode == 0 and "expired at 2026-04-15" in nws.stderr  # read, not refused
    assert len(bulletins(province)) == 3

    # issue 24, 7: no <expires>: sent years ago, it starts nothing; sent an hour ago, it
    # lives for [import] cap_hours (24) from its <sent>
    old = run(province, "import-cap", f"{url}/no-expires-old.xml")
    assert old.returncode == 0 and old.stdout == "" and "no expiry, over 24 h ago" in old.stderr
    sent = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    recent = (
        (CAP_DATA / "no-expires-old.xml")
        .read_bytes()
        .replace(b"2019-08-01T07:00:00+07:00", sent.isoformat().encode())
        .replace(b"CB-2019", b"CB-NOW")
    )
    (root / "recent.xml").write_bytes(recent)
    assert run(province, "import-cap", f"{url}/recent.xml").returncode == 0
    ((until,),) = province.sql("SELECT valid_until FROM bulletins_bulletin WHERE origin_ref "
                               "LIKE '%CB-NOW%'")  # fmt: skip
    assert until.startswith((sent + timedelta(hours=24)).strftime("%Y-%m-%d %H:%M:%S"))
