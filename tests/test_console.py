"""The authoring console in process (Django's test client against a real SQLite database,
the real signing key and site): what each role may do, by the buttons and by forged
requests; what is refused before it can reach a board; what publishing writes; the audit
log; CSRF and login throttling. The browser end to end is in test_console_browser.py."""

from __future__ import annotations

import base64
import io
import json
import shutil
import unicodedata
from pathlib import Path

import pytest
from PIL import Image

from tests.province import png_bomb, png_bytes

PASSWORD = "mat-khau-rat-dai-42"
TAN_TRAO, SON_DUONG, OTHER = "xa-02263", "xa-02410", "xa-02500"


@pytest.fixture
def console(django_db):
    """Boards of two districts and one account of each kind; a clean slate of bulletins."""
    from django.contrib.auth import get_user_model

    from kiosk.province.accounts.models import Profile
    from kiosk.province.bulletins.models import AuditEntry, Bulletin, Channel
    from kiosk.province.fleet.models import Board, ItemDay, ItemTitle, ItemTotal

    for model in (AuditEntry, Bulletin, Channel, Board, ItemDay, ItemTotal, ItemTitle):
        model.objects.all().delete()
    get_user_model().objects.all().delete()
    from axes.models import AccessAttempt

    AccessAttempt.objects.all().delete()
    for device, unit, code, district in (
        ("08-02263-01", "UBND xã Tân Trào", "02263", "Sơn Dương"),
        ("08-02410-01", "UBND thị trấn Sơn Dương", "02410", "Sơn Dương"),
        ("08-02500-01", "UBND xã Khác", "02500", "Yên Sơn"),
    ):
        Board.objects.create(device_id=device, unit_name=unit, unit_kind="xa",
                             province_code="08", commune_code=code, district=district)  # fmt: skip
    users = get_user_model()
    for name, role, channels in (
        ("tac-gia", "author", [TAN_TRAO]),
        ("tac-gia-khac", "author", [OTHER]),
        ("duyet-xa", "approver", [TAN_TRAO]),
        ("duyet-tinh", "approver", []),
        ("ky-thuat", "technician", []),
    ):
        user = users.objects.create_user(name, password=PASSWORD)
        Profile.objects.create(user=user, role=role, channels=channels)
    users.objects.create_superuser("quan-tri", password=PASSWORD)
    return django_db


def client(name: str | None = None, csrf: bool = False):
    from django.contrib.auth import get_user_model
    from django.test import Client

    c = Client(enforce_csrf_checks=csrf)
    if name:  # the login page itself is tested in test_csrf_and_login_throttling_hold
        c.force_login(get_user_model().objects.get(username=name))
    return c


def form(**fields) -> dict:
    base = {"kind": "text", "priority": "normal", "title": "Lịch tiếp công dân",
            "body": "Chủ tịch UBND xã tiếp công dân vào sáng thứ Năm.", "duration": "20",
            "fit": "contain", "targets": [TAN_TRAO]}  # fmt: skip
    return base | fields


def write(c, **fields) -> int:
    from kiosk.province.bulletins.models import Bulletin

    before = set(Bulletin.objects.values_list("pk", flat=True))
    answer = c.post("/bulletins/new", form(**fields))
    assert answer.status_code == 302, answer.content.decode()[:3000]
    (pk,) = set(Bulletin.objects.values_list("pk", flat=True)) - before
    return pk


def seen(pk: int) -> dict:
    """What the publish button sends: the revision the approver is looking at."""
    from kiosk.province.bulletins.models import Bulletin

    return {"revision": Bulletin.objects.get(pk=pk).revision}


def state(pk: int) -> str:
    from kiosk.province.bulletins.models import Bulletin

    return Bulletin.objects.get(pk=pk).state


def manifest(root: Path, channel: str, key) -> dict:
    from kiosk.core.signing import public_key_text, raw_public_key, verify_envelope

    data = (root / "site" / "channels" / channel / "manifest.json").read_bytes()
    return json.loads(verify_envelope(data, [public_key_text(raw_public_key(key))]))


def on_air_ids(console, channel: str = TAN_TRAO) -> list[str]:
    """The item ids a channel's signed manifest carries ([] before its first publication)."""
    if not (console["root"] / "site" / "channels" / channel / "manifest.json").exists():
        return []
    return [i["id"] for i in manifest(console["root"], channel, console["key"])["items"]]


def test_an_author_writes_and_submits_an_approver_publishes_and_boards_get_it(console):
    author, approver = client("tac-gia"), client("duyet-xa")
    pk = write(author, title=unicodedata.normalize("NFD", "Thông báo cắt điện"))
    assert state(pk) == "draft"
    page = author.get(f"/bulletins/{pk}/").content.decode()
    assert "Bản nháp" in page and "Gửi duyệt" in page and "Duyệt và xuất bản" not in page
    assert author.post(f"/bulletins/{pk}/publish", seen(pk)).status_code == 403  # forged: still no
    assert author.post(f"/bulletins/{pk}/submit").status_code == 302
    assert state(pk) == "submitted"
    assert author.post(f"/bulletins/{pk}/publish", seen(pk)).status_code == 403
    assert "Duyệt và xuất bản" in approver.get(f"/bulletins/{pk}/").content.decode()
    assert approver.post(f"/bulletins/{pk}/publish", seen(pk)).status_code == 302
    assert state(pk) == "published"

    doc = manifest(console["root"], TAN_TRAO, console["key"])
    (item,) = doc["items"]
    assert item["id"] == f"bt-{pk}" and item["duration"] == 20
    assert item["title"] == unicodedata.normalize("NFC", "Thông báo cắt điện")
    assert not (console["root"] / "site" / "channels" / "xa-02410").exists()

    from kiosk.province.bulletins.models import AuditEntry

    actions = list(AuditEntry.objects.filter(bulletin_id=pk).order_by("id").values_list(
        "username", "action"))  # fmt: skip
    assert actions == [("tac-gia", "created"), ("tac-gia", "submitted"),
                       ("duyet-xa", "published")]  # fmt: skip
    published = AuditEntry.objects.get(bulletin_id=pk, action="published")
    assert published.before["state"] == "submitted" and published.after["state"] == "published"
    assert f"{TAN_TRAO} số {doc['sequence']}" in published.detail


def test_nobody_approves_their_own_work_but_an_emergency_goes_out_at_once(console):
    approver = client("duyet-xa")
    pk = write(approver)
    assert approver.post(f"/bulletins/{pk}/submit").status_code == 302
    assert approver.post(f"/bulletins/{pk}/publish", seen(pk)).status_code == 403
    assert "một người duyệt khác" in approver.get(f"/bulletins/{pk}/").content.decode()
    # an approver who edits someone's bulletin is its second author, not its reviewer
    author = client("tac-gia")
    theirs = write(author)
    edit = approver.post(f"/bulletins/{theirs}/edit", form(title="Sửa lại tiêu đề"))
    assert edit.status_code == 302
    assert author.post(f"/bulletins/{theirs}/submit").status_code == 302
    assert approver.post(f"/bulletins/{theirs}/publish", seen(theirs)).status_code == 403
    assert (
        client("duyet-tinh").post(f"/bulletins/{theirs}/publish", seen(theirs)).status_code == 302
    )

    flood = write(approver, priority="emergency", title="Lũ quét: sơ tán ngay")
    assert "Phát khẩn cấp ngay" in approver.get(f"/bulletins/{flood}/").content.decode()
    assert approver.post(f"/bulletins/{flood}/publish", seen(flood)).status_code == 302
    items = manifest(console["root"], TAN_TRAO, console["key"])["items"]
    assert [i["id"] for i in items] == [f"bt-{theirs}", f"bt-{flood}"]
    assert items[1]["priority"] == "emergency"
    # an author may not send an emergency out alone
    own = write(author, priority="emergency")
    assert author.post(f"/bulletins/{own}/publish", seen(own)).status_code == 403


def test_withdrawing_publishes_a_sequence_without_it_and_editing_keeps_it_on_air(console):
    author, approver = client("tac-gia"), client("duyet-tinh")
    first, second = write(author, title="Một"), write(author, title="Hai")
    for pk in (first, second):
        author.post(f"/bulletins/{pk}/submit")
        approver.post(f"/bulletins/{pk}/publish", seen(pk))
    doc = manifest(console["root"], TAN_TRAO, console["key"])
    assert [i["title"] for i in doc["items"]] == ["Một", "Hai"]

    assert approver.post(f"/bulletins/{first}/withdraw").status_code == 302
    after = manifest(console["root"], TAN_TRAO, console["key"])
    assert after["sequence"] == doc["sequence"] + 1
    assert [i["title"] for i in after["items"]] == ["Hai"]
    assert state(first) == "withdrawn"

    # SPEC 7.4: editing what is on air makes a draft revision; the approved one stays
    assert author.post(f"/bulletins/{second}/edit", form(title="Hai (sửa)")).status_code == 302
    assert manifest(console["root"], TAN_TRAO, console["key"]) == after
    assert state(second) == "draft"
    page = author.get(f"/bulletins/{second}/").content.decode()
    assert 'id="on-air-older"' in page and "bản sửa 1" in page
    # a bulletin once published stays (the yearly report): withdrawn, never deleted
    assert author.post(f"/bulletins/{second}/delete").status_code == 403
    author.post(f"/bulletins/{second}/submit")
    assert approver.post(f"/bulletins/{second}/publish", seen(second)).status_code == 302
    edited = manifest(console["root"], TAN_TRAO, console["key"])
    assert edited["sequence"] == after["sequence"] + 1
    assert [i["title"] for i in edited["items"]] == ["Hai (sửa)"]


def test_an_author_cannot_take_a_published_emergency_off_air_by_editing_it(console):
    """Issue 23, 5: the author, refused the right to withdraw, edited the emergency and the
    boards lost it. Now the edit is a draft; the emergency stays on every board."""
    author, approver = client("tac-gia"), client("duyet-xa")
    flood = write(author, priority="emergency", title="Lũ quét", body="Sơ tán ngay.")
    assert approver.post(f"/bulletins/{flood}/publish", seen(flood)).status_code == 302
    on_air = manifest(console["root"], TAN_TRAO, console["key"])
    assert [(i["title"], i["priority"]) for i in on_air["items"]] == [("Lũ quét", "emergency")]

    assert author.post(f"/bulletins/{flood}/withdraw").status_code == 403
    edit = form(priority="normal", title="Hết lũ", body="Đã an toàn.", valid_until="")
    assert author.post(f"/bulletins/{flood}/edit", edit).status_code == 302
    assert manifest(console["root"], TAN_TRAO, console["key"]) == on_air  # not a byte changed
    assert state(flood) == "draft"
    assert author.post(f"/bulletins/{flood}/withdraw").status_code == 403


def test_an_approver_publishes_only_the_revision_they_saw(console):
    """Issue 23, 4: the author edited while the approver read; the click approved text the
    approver never saw. Now it is 409, with what changed, and nothing goes out."""
    author, approver = client("tac-gia"), client("duyet-xa")
    pk = write(author, title="Họp dân", body="Họp dân lúc 8 giờ sáng Chủ Nhật.")
    author.post(f"/bulletins/{pk}/submit")
    looked_at = seen(pk)  # the approver opens the page ...
    assert (
        f'name="revision" value="{looked_at["revision"]}"'
        in approver.get(f"/bulletins/{pk}/").content.decode()
    )
    # ... the author changes the text meanwhile, and submits again
    author.post(f"/bulletins/{pk}/edit", form(title="Họp dân", body="Không họp nữa."))
    author.post(f"/bulletins/{pk}/submit")
    answer = approver.post(f"/bulletins/{pk}/publish", looked_at)
    assert answer.status_code == 409
    page = answer.content.decode()
    assert "Bản tin đã thay đổi trong lúc bạn xem" in page
    assert "Họp dân lúc 8 giờ sáng Chủ Nhật." in page and "Không họp nữa." in page
    assert "Nội dung" in page and "Tiêu đề" not in page.split('id="changes"')[1]
    assert state(pk) == "submitted"
    assert f"bt-{pk}" not in on_air_ids(console)
    for forged in ({}, {"revision": "9" * 5000}, {"revision": "-1"}, {"revision": "２"}):
        assert approver.post(f"/bulletins/{pk}/publish", forged).status_code == 409
    # having looked again, the approver publishes what they saw
    assert approver.post(f"/bulletins/{pk}/publish", seen(pk)).status_code == 302
    doc = manifest(console["root"], TAN_TRAO, console["key"])
    assert [i["body"] for i in doc["items"]] == ["Không họp nữa."]


def test_a_commune_officer_sees_and_touches_only_the_communes_channels(console):
    mine, other = client("tac-gia"), client("tac-gia-khac")
    pk = write(mine)
    assert other.get(f"/bulletins/{pk}/").status_code == 404
    assert other.post(f"/bulletins/{pk}/submit").status_code == 404
    assert other.post(f"/bulletins/{pk}/edit", form(targets=[OTHER])).status_code == 404
    assert f"bulletin-{pk}" not in other.get("/bulletins/").content.decode()
    # a forged form aiming at another commune, a district, the province: nothing saved
    from kiosk.province.bulletins.models import Bulletin

    for targets in ([TAN_TRAO], ["district:Sơn Dương"], ["tinh-08"], ["xa-99999"]):
        answer = other.post("/bulletins/new", form(targets=targets))
        assert answer.status_code == 200
        assert answer.context["form"].errors["targets"]
    assert Bulletin.objects.count() == 1
    # the form offers an officer only their own channels
    offered = [k for k, _ in other.get("/bulletins/new").context["form"].fields["targets"].choices]
    assert offered == [OTHER]
    # the district's approver of one commune cannot publish what goes to the whole district
    wide = write(client("duyet-tinh"), targets=["district:Sơn Dương"])
    assert Bulletin.objects.get(pk=wide).channels == [TAN_TRAO, SON_DUONG]
    client("duyet-tinh").post(f"/bulletins/{wide}/submit")
    assert client("duyet-xa").post(f"/bulletins/{wide}/publish", seen(wide)).status_code == 403
    # a technician writes nothing
    assert client("ky-thuat").get("/bulletins/").status_code == 403


@pytest.mark.parametrize(
    "fields, field, message",
    [
        ({"body": "Chuông\x07 báo"}, "body", "ký tự điều khiển"),
        ({"title": "Tiêu\x1b[31m đề"}, "title", "ký tự điều khiển"),
        ({"title": "x" * 201}, "title", "tối đa 200"),
        ({"body": "y" * 5001}, "body", "tối đa 5000"),
        ({"title": "", "body": ""}, "title", "cần tiêu đề hoặc nội dung"),
        ({"duration": "2"}, "duration", "3"),
        ({"hours": "sáng thứ Hai"}, "hours", "không phải khung giờ"),  # 7h-11h is read
        ({"hours": ", ".join(["07:00-08:00"] * 25)}, "hours", "tối đa 24"),
        ({"valid_from": "2026-12-10T08:00", "valid_until": "2026-12-09T08:00"},
         "valid_until", "phải sau"),
        ({"kind": "ticker", "ticker": ""}, "ticker", "chữ chạy"),
        ({"kind": "image"}, "image", "cần một ảnh"),
        ({"targets": []}, "targets", ""),
        ({"priority": "urgent"}, "priority", ""),
    ],
)  # fmt: skip
def test_nothing_a_board_would_refuse_can_be_saved(console, fields, field, message):
    from kiosk.province.bulletins.models import Bulletin

    answer = client("tac-gia").post("/bulletins/new", form(**fields))
    assert answer.status_code == 200
    errors = answer.context["form"].errors
    assert field in errors, errors
    assert message in " ".join(errors[field])
    assert Bulletin.objects.count() == 0


def _upload(data: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def test_images_are_checked_as_the_board_checks_them_and_previewed(console):
    from kiosk.province.bulletins.models import Bulletin

    author = client("tac-gia")
    for data, name, why in (
        (b"GIF89a" + b"\0" * 100, "a.gif", "không phải ảnh JPEG, PNG hay WebP"),
        (png_bomb(), "bomb.png", "50 megapixel"),
        (png_bytes()[:40], "cut.png", "Không đọc được ảnh"),
    ):
        answer = author.post("/bulletins/new", form(kind="image", image=_upload(data, name)))
        assert answer.status_code == 200 and why in " ".join(answer.context["form"].errors["image"])
    assert Bulletin.objects.count() == 0

    photo = png_bytes((800, 450), (20, 90, 160))
    pk = write(author, kind="image", caption="Lễ hội Thành Tuyên", image=_upload(photo, "a.png"))
    b = Bulletin.objects.get(pk=pk)
    assert b.image_type == "image/png" and b.image_size == len(photo)
    for orientation, (w, h) in (("landscape", (960, 540)), ("portrait", (540, 960))):
        answer = author.get(f"/bulletins/{pk}/preview-{orientation}.png")
        assert answer.status_code == 200 and answer["Content-Type"] == "image/png"
        with Image.open(io.BytesIO(answer.content)) as shown:
            assert shown.size == (w, h)
            # the photo's blue is on the panel, inside the board's frame
            assert (20, 90, 160) in {c for _, c in shown.convert("RGB").getcolors(1 << 20)}
    # a long text is cut into pages, all previewed on one sheet
    long = write(author, body="\n\n".join(["Một đoạn văn dài về lịch tiếp dân. " * 12] * 8))
    sheet = author.get(f"/bulletins/{long}/preview-landscape.png").content
    with Image.open(io.BytesIO(sheet)) as s:
        assert s.width > 960  # a sheet of several pages

    author.post(f"/bulletins/{pk}/submit")
    client("duyet-xa").post(f"/bulletins/{pk}/publish", seen(pk))
    (item,) = manifest(console["root"], TAN_TRAO, console["key"])["items"]
    assert item["asset"]["size"] == len(photo)
    asset = console["root"] / "site" / "assets" / item["asset"]["sha256"]
    assert asset.read_bytes() == photo


def test_csrf_and_login_throttling_hold(console):
    from kiosk.province.bulletins.models import Bulletin
    from kiosk.province.server.setup import LOGIN_FAILURES

    guarded = client("tac-gia", csrf=True)
    assert guarded.post("/bulletins/new", form()).status_code == 403
    assert Bulletin.objects.count() == 0

    c = client()
    for _ in range(LOGIN_FAILURES):
        answer = c.post("/login/", {"username": "duyet-tinh", "password": "sai-mat-khau"})
        assert answer.status_code in (200, 429)
    locked = c.post("/login/", {"username": "duyet-tinh", "password": PASSWORD})
    assert locked.status_code == 429
    assert "Đăng nhập sai quá nhiều lần" in locked.content.decode()
    assert "_auth_user_id" not in c.session


def province_cli(console, *args: str) -> int:
    """A `kiosk province` command run in this process against the console's database."""
    from kiosk.cli import main

    toml = console["root"] / "PROVINCE.toml"
    root = console["root"]
    toml.write_text(
        f'[server]\ndatabase = "sqlite:///{root / "province.db"}"\n'
        f'site_dir = "{root / "site"}"\nsigning_key = "{root / "province.key"}"\n'
        f'inventory = "{root / "INVENTORY.csv"}"\n'
    )
    return main(["province", *args, "--config", str(toml)])


def test_nobody_can_lock_an_approver_out_from_elsewhere(console, capsys):
    """Issue 23, 10: failed logins locked a username from every address. Now the lock holds
    for that account from that address only, and an admin lifts it."""
    from django.test import Client

    from kiosk.province.bulletins.models import AuditEntry
    from kiosk.province.server.setup import LOGIN_FAILURES

    def at(address: str) -> Client:  # through nginx, as production runs: the peer is loopback
        return Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=address)

    attacker = at("198.51.100.9")
    for _ in range(LOGIN_FAILURES + 3):
        attacker.post("/login/", {"username": "duyet-tinh", "password": "doan-mo"})
    assert (
        attacker.post("/login/", {"username": "duyet-tinh", "password": PASSWORD}).status_code
        == 429
    )

    office = at("203.0.113.7")  # the approver, at the People's Committee
    answer = office.post("/login/", {"username": "duyet-tinh", "password": PASSWORD})
    assert answer.status_code == 302 and "_auth_user_id" in office.session

    capsys.readouterr()
    assert province_cli(console, "user", "list") == 0
    assert "198.51.100.9" in capsys.readouterr().out
    assert province_cli(console, "user", "unlock", "duyet-tinh") == 0
    assert "unlocked" in capsys.readouterr().out
    retried = at("198.51.100.9").post("/login/", {"username": "duyet-tinh", "password": PASSWORD})
    assert retried.status_code == 302
    assert AuditEntry.objects.filter(action="unlocked").count() == 1
    assert province_cli(console, "user", "unlock", "nobody") == 2


def test_an_admin_helps_from_the_accounts_page(console):
    """Issue 26, 6: the admin had no tool in the console. The accounts page lists every
    account with where it is locked out, and lifts a lockout, sets a password (the rules'
    messages all Vietnamese) and disables an account, each in the audit log under the admin."""
    import re

    from django.test import Client

    from kiosk.province.bulletins.models import AuditEntry
    from kiosk.province.server.setup import LOGIN_FAILURES

    def at(address: str) -> Client:
        return Client(REMOTE_ADDR="127.0.0.1", HTTP_X_FORWARDED_FOR=address)

    for name in ("tac-gia", "duyet-xa", "ky-thuat"):
        assert client(name).get("/accounts/").status_code == 403
    typo = at("198.51.100.9")
    for _ in range(LOGIN_FAILURES + 1):
        typo.post("/login/", {"username": "tac-gia", "password": "go-nham"})

    admin = client("quan-tri")
    page = admin.get("/accounts/").content.decode()
    assert 'href="/accounts/"' in page  # in the admin's header
    row = re.search(r'<tr id="account-tac-gia">.*?</tr>', page, re.S).group(0)
    assert "Bị khóa đăng nhập</b> tại 198.51.100.9" in row and "Biên soạn" in row
    assert 'id="disable-quan-tri"' not in page  # never one's own
    assert admin.post("/accounts/quan-tri/disable").status_code == 302
    assert "Không tự khóa" in admin.get("/accounts/").content.decode()

    done = admin.post("/accounts/tac-gia/unlock", follow=True).content.decode()
    assert "Đã mở khóa đăng nhập cho tac-gia" in done and "Bị khóa" not in done
    assert at("198.51.100.9").post("/login/", {"username": "tac-gia",
                                    "password": PASSWORD}).status_code == 302  # fmt: skip

    differ = admin.post("/accounts/tac-gia/password", {"password": "mot-mat-khau-dai",
                        "again": "mat-khau-khac-dai"}).content.decode()  # fmt: skip
    assert "Hai lần nhập không giống nhau." in differ
    weak = admin.post("/accounts/tac-gia/password", {"password": "123", "again": "123"})
    words = weak.content.decode()
    assert "Mật khẩu quá ngắn: cần ít nhất 10 ký tự." in words
    assert "Mật khẩu không được chỉ gồm chữ số." in words
    assert "This password" not in words and "password is" not in words  # no English
    set_ = admin.post("/accounts/tac-gia/password", {"password": "ngay-moi-troi-xanh-9",
                      "again": "ngay-moi-troi-xanh-9"}, follow=True)  # fmt: skip
    assert "Đã đặt mật khẩu mới cho tac-gia" in set_.content.decode()
    new_login = {"username": "tac-gia", "password": "ngay-moi-troi-xanh-9"}
    assert Client().post("/login/", new_login).status_code == 302

    admin.post("/accounts/ky-thuat/disable")
    assert (
        Client().post("/login/", {"username": "ky-thuat", "password": PASSWORD}).status_code == 200
    )  # refused
    assert "Đã khóa hẳn" in admin.get("/accounts/").content.decode()
    done = {(e.action, e.username) for e in AuditEntry.objects.all()}
    assert {("unlocked", "quan-tri"), ("password_reset", "quan-tri"),
            ("disabled", "quan-tri")} <= done  # fmt: skip
    assert "ngay-moi-troi-xanh-9" not in str(list(AuditEntry.objects.values()))


def test_the_key_never_appears_in_a_page_a_response_or_the_audit_log(console, caplog):
    from cryptography.hazmat.primitives import serialization

    from kiosk.province.bulletins.models import AuditEntry

    key = console["key"]
    secrets = [
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                          serialization.NoEncryption()).decode(),
        base64.b64encode(key.private_bytes_raw()).decode(),
        key.private_bytes_raw().hex(),
    ]  # fmt: skip
    pem_body = secrets[0].splitlines()[1]
    admin = client("quan-tri")
    pk = write(admin, priority="emergency")
    shown = []
    for url in ("/bulletins/", f"/bulletins/{pk}/", "/audit/", f"/bulletins/{pk}/edit"):
        shown.append(admin.get(url).content.decode())
    shown.append(admin.post(f"/bulletins/{pk}/publish", seen(pk), follow=True).content.decode())
    shown += [json.dumps([e.before, e.after, e.detail]) for e in AuditEntry.objects.all()]
    shown.append(caplog.text)
    for text in shown:
        for secret in [*secrets, pem_body]:
            assert secret not in text
    assert state(pk) == "published"


def test_a_quiet_provinces_channels_are_signed_again_before_boards_would_drop_them(console):
    from datetime import timedelta

    from django.utils import timezone

    from kiosk.province.bulletins.models import AuditEntry
    from kiosk.province.server.housekeeping import resign_channels

    author = client("tac-gia")
    pk = write(author)
    author.post(f"/bulletins/{pk}/submit")
    client("duyet-xa").post(f"/bulletins/{pk}/publish", seen(pk))
    doc = manifest(console["root"], TAN_TRAO, console["key"])
    now = timezone.now()
    assert resign_channels(now, 14) == ["tinh-08", SON_DUONG, OTHER]  # never published: empty
    assert resign_channels(now + timedelta(days=6), 14) == []  # far from expiry: untouched
    everyone = ["tinh-08", TAN_TRAO, SON_DUONG, OTHER]
    assert resign_channels(now + timedelta(days=8), 14) == everyone
    again = manifest(console["root"], TAN_TRAO, console["key"])
    assert again["sequence"] == doc["sequence"] + 1 and again["items"] == doc["items"]
    assert again["expires_at"] > doc["expires_at"]
    assert AuditEntry.objects.filter(action="republished", username="hệ thống").count() == 2


def test_the_report_says_what_was_published_who_approved_it_and_where_it_was_shown(console):
    import csv

    from django.utils import timezone

    from tests.delivered import deliver_plays

    author = client("tac-gia")
    pk = write(author, title="Lịch tiêm chủng")
    author.post(f"/bulletins/{pk}/submit")
    client("duyet-xa").post(f"/bulletins/{pk}/publish", seen(pk))
    start = timezone.now()
    deliver_plays("08-02263-01", [(TAN_TRAO, f"bt-{pk}", start.replace(microsecond=n), 20.0)
                                  for n in range(3)], start)  # fmt: skip
    day = timezone.localtime(start).date().isoformat()
    page = author.get(f"/reports/?from={day}&to={day}").content.decode()
    assert "Lịch tiêm chủng" in page and "duyet-xa" in page and "UBND xã Tân Trào" in page
    answer = author.get(f"/reports.csv?from={day}&to={day}")
    (row,) = list(csv.DictReader(io.StringIO(answer.getvalue().decode("utf-8-sig"))))
    # for the Department, in Excel: Vietnamese headers and words, local times to the minute
    assert (row["Tiêu đề"], row["Người viết"], row["Người duyệt"]) == (
        "Lịch tiêm chủng", "tac-gia", "duyet-xa")  # fmt: skip
    assert (row["Kênh"], row["Số bảng tin"], row["Lượt phát"], row["Thời lượng (giây)"]) == (
        TAN_TRAO, "1", "3", "60")  # fmt: skip
    assert (row["Loại"], row["Mức độ"], row["Trạng thái"]) == ("Văn bản", "Thông thường",
                                                               "Đang phát")  # fmt: skip
    from kiosk.province.bulletins.models import Bulletin

    published = Bulletin.objects.get(pk=pk).published_at
    local = timezone.localtime(published).strftime("%Y-%m-%d %H:%M")  # TIME_ZONE: the province's
    assert row["Xuất bản lúc"] == local and row["Gỡ xuống lúc"] == ""
    # another commune's officer does not see it
    assert (
        "Lịch tiêm chủng"
        not in client("tac-gia-khac").get(f"/reports/?from={day}").content.decode()
    )


def test_a_bulletin_whose_schedule_has_passed_is_never_called_on_air(console):
    """Issue 26, 5: a bulletin whose whole schedule had passed was published and shown as
    "Đang phát", and the report listed it on air with 0 boards. Saving it now warns,
    approving it is refused, and a published bulletin is "Đang phát" only while boards can
    show it: before, the list says when it will show; after, that its schedule has passed."""
    from datetime import timedelta

    from django.utils import timezone

    from kiosk.province.bulletins.models import Bulletin

    def local(moment) -> str:  # as the datetime-local field sends it
        return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")

    now = timezone.now()
    approver, author = client("duyet-tinh"), client("tac-gia")
    answer = author.post("/bulletins/new", form(title="Họp dân tháng trước",
                         valid_until=local(now - timedelta(days=3))), follow=True)  # fmt: skip
    assert "Lịch phát của bản tin đã qua hết" in answer.content.decode()
    (old,) = Bulletin.objects.filter(title="Họp dân tháng trước").values_list("pk", flat=True)
    author.post(f"/bulletins/{old}/submit")
    refused = approver.post(f"/bulletins/{old}/publish", seen(old), follow=True)
    assert "Chưa xuất bản. Lịch phát của bản tin đã qua hết" in refused.content.decode()
    assert state(old) == "submitted" and f"bt-{old}" not in on_air_ids(console)

    # a schedule that starts later: published, and said to show from then
    later = write(author, title="Lịch nghỉ Tết", valid_from=local(now + timedelta(days=2)))
    author.post(f"/bulletins/{later}/submit")
    approver.post(f"/bulletins/{later}/publish", seen(later))
    assert state(later) == "published" and f"bt-{later}" in on_air_ids(console)
    listing = author.get("/bulletins/").content.decode()
    starts = timezone.localtime(now + timedelta(days=2))
    assert f"Đã duyệt, phát từ {starts:%H:%M} ngày {starts.day}/{starts.month}/" in listing

    # one on air now, whose time then runs out: no longer "Đang phát"
    brief = write(author, title="Cắt điện chiều nay", valid_until=local(now + timedelta(hours=3)))
    author.post(f"/bulletins/{brief}/submit")
    approver.post(f"/bulletins/{brief}/publish", seen(brief))
    b = Bulletin.objects.get(pk=brief)
    from kiosk.province.bulletins.bulletin import state_text
    from kiosk.province.fleet.fleetdata import province_tz

    assert state_text(b, now, province_tz()) == "Đang phát"
    assert state_text(b, now + timedelta(hours=4), province_tz()) == "Đã hết lịch phát"
    page = author.get("/bulletins/?state=published").content.decode()
    assert "Đã xuất bản" in page  # the filter's name: published is not "on air" by itself


def test_the_channels_of_a_whole_province_are_signed_again_a_batch_a_transaction(console):
    """10,000 communes' channels all due the same week are signed RESIGN_BATCH at a time,
    each batch its own transaction (SQLite's write lock, and every heartbeat, never waits
    for all of them); every channel goes out, each once."""
    from django.utils import timezone

    from kiosk.province.bulletins.models import AuditEntry, Channel
    from kiosk.province.server.housekeeping import RESIGN_BATCH, resign_channels

    now = timezone.now()
    names = [f"xa-{90000 + n}" for n in range(2 * RESIGN_BATCH + 1)]
    Channel.objects.bulk_create([Channel(name=n, sequence=1, stale=True) for n in names])
    done = resign_channels(now, 14)
    assert set(names) <= set(done) and len(done) == len(set(done))
    assert set(Channel.objects.filter(name__in=names).values_list("sequence", flat=True)) == {2}
    for name in names[::RESIGN_BATCH]:
        assert manifest(console["root"], name, console["key"])["sequence"] == 2
    assert AuditEntry.objects.filter(action="republished").count() >= 3  # a batch each
    assert resign_channels(now, 14) == []


def test_the_small_frictions_are_gone(console):
    """Issue 26, 9: hour windows as officers type them; a return needs a reason, which the
    author reads; an author cannot delete what waits for approval; the dangerous buttons ask
    first (their questions are checked in a browser in test_console_browser.py)."""
    from kiosk.province.bulletins.models import Bulletin

    author, approver = client("tac-gia"), client("duyet-xa")
    pk = write(author, hours="7h-11h30 13:30 - 17:00")
    assert Bulletin.objects.get(pk=pk).hours == ["07:00-11:30", "13:30-17:00"]
    refused = author.post("/bulletins/new", form(hours="7:00-11:30 sáng")).content.decode()
    assert "“sáng” không phải khung giờ" in refused
    assert 'value="7:00-11:30 sáng"' in refused  # what was typed stays in the field

    author.post(f"/bulletins/{pk}/submit")
    page = author.get(f"/bulletins/{pk}/").content.decode()
    assert 'id="delete"' not in page  # waiting for approval: not the author's to delete
    assert author.post(f"/bulletins/{pk}/delete").status_code == 403
    page = approver.get(f"/bulletins/{pk}/").content.decode()
    assert "Xóa bản tin chờ duyệt" in page and "data-confirm=" in page
    assert 'name="note"' in page and "required" in page

    blank = approver.post(f"/bulletins/{pk}/return", {"note": "   "}, follow=True)
    assert "hãy ghi lý do" in blank.content.decode() and state(pk) == "submitted"
    approver.post(f"/bulletins/{pk}/return", {"note": "Sai giờ tiếp dân, sửa thành 8h."})
    assert state(pk) == "draft"
    told = author.get(f"/bulletins/{pk}/").content.decode()
    assert "Người duyệt duyet-xa trả lại bản tin, lý do: Sai giờ tiếp dân, sửa thành 8h." in told
    listed = author.get("/bulletins/").content.decode()
    assert "Bị trả lại" in listed and "Sai giờ tiếp dân" in listed
    assert 'id="delete"' in told and "Xóa bản nháp" in told  # a draft again: the author's
    author.post(f"/bulletins/{pk}/edit", form(hours="8h-11h30"))
    assert "Bị trả lại" not in author.get("/bulletins/").content.decode()  # mended


def test_login_records_are_bounded(console):
    from datetime import timedelta

    from axes.models import AccessAttempt
    from django.utils import timezone

    from kiosk.province.server.housekeeping import prune_login_records

    c = client()
    c.post("/login/", {"username": "tac-gia", "password": "sai"})
    assert AccessAttempt.objects.count() == 1
    assert prune_login_records(timezone.now()) == 0
    assert prune_login_records(timezone.now() + timedelta(days=2)) == 1
    assert AccessAttempt.objects.count() == 0


def test_uploads_no_bulletin_uses_are_removed_after_a_day(console):
    from datetime import timedelta

    from django.utils import timezone

    from kiosk.province.bulletins.models import Bulletin
    from kiosk.province.bulletins.uploads import uploads_dir
    from kiosk.province.server.housekeeping import prune_uploads

    author = client("tac-gia")
    kept = write(author, kind="image", image=_upload(png_bytes((320, 200)), "a.png"))
    # a form sent with a good image but a bad title: the image is stored, no bulletin uses it
    author.post("/bulletins/new", form(kind="image", title="x", caption="\x07",
                                       image=_upload(png_bytes((300, 200)), "b.png")))  # fmt: skip
    folder = uploads_dir()
    before = {p.name for p in folder.iterdir()}
    used = Bulletin.objects.get(pk=kept).image_sha256
    assert used in before and len(before) >= 2
    assert prune_uploads(folder, timezone.now()) == 0  # younger than a day
    prune_uploads(folder, timezone.now() + timedelta(days=2))
    assert {p.name for p in folder.iterdir()} == {used}


@pytest.fixture
def a_board(console, tmp_path):
    """A real board's sync (tests/test_sync.py) against the console's site, served over HTTP
    on loopback, subscribed to Tân Trào's channel."""
    from types import SimpleNamespace

    from kiosk.core.signing import public_key_text, raw_public_key
    from kiosk.demo.sitesrv import SiteServer
    from tests.test_sync import make_board

    site = console["root"] / "site"
    site.mkdir(exist_ok=True)
    server = SiteServer(("127.0.0.1", 0), site)
    server.start()
    shim = SimpleNamespace(
        url=server.url, public_key=public_key_text(raw_public_key(console["key"]))
    )
    yield make_board(tmp_path / "board", shim, channels=(TAN_TRAO,))
    server.stop()


def board_holds(board) -> tuple[int | None, list[str], set[str]]:
    """After one sync: the board's sequence for the channel, its items, its problem codes."""
    report = board.sync()
    (channel,) = report.channels
    held = board.syncer._stored(TAN_TRAO)[1]
    ids = [i.id for ch in board.content().channels for i in ch.items]
    return (held.sequence if held else None), ids, {p.code for p in channel.problems}


def test_a_lost_site_does_not_silence_the_province(console, a_board):
    """Issue 23, 1: the next sequence was read from site_dir; after the disk was replaced an
    emergency went out at sequence 1 and every board refused it as a rollback. Now the
    database's counter is the truth, and the site is written again from it."""
    approver = client("duyet-xa")
    first = write(approver, title="Lịch tiếp dân")
    approver.post(f"/bulletins/{first}/submit")
    assert client("duyet-tinh").post(f"/bulletins/{first}/publish", seen(first)).status_code == 302
    held, ids, _ = board_holds(a_board)
    assert ids == [f"bt-{first}"] and held >= 1

    site = console["root"] / "site"
    older = console["root"] / "older-site"
    shutil.copytree(site, older)
    shutil.rmtree(site)  # the disk replaced; only the database was backed up
    flood = write(approver, priority="emergency", title="Lũ quét", body="Sơ tán ngay.")
    assert approver.post(f"/bulletins/{flood}/publish", seen(flood)).status_code == 302
    now_held, ids, problems = board_holds(a_board)
    assert now_held > held and ids == [f"bt-{first}", f"bt-{flood}"] and not problems

    # an older copy of the site restored: the server writes it again from the database
    shutil.rmtree(site)
    shutil.copytree(older, site)
    assert province_cli(console, "rebuild-site") == 0
    rebuilt, ids, problems = board_holds(a_board)
    assert rebuilt > now_held and ids == [f"bt-{first}", f"bt-{flood}"] and not problems
    assert province_cli(console, "rebuild-site") == 0  # nothing behind now: nothing written
    assert board_holds(a_board)[0] == rebuilt
    # and the housekeeping heals a site that lost a channel while the server runs
    from django.utils import timezone

    from kiosk.province.server.housekeeping import resign_channels

    (site / "channels" / TAN_TRAO / "manifest.json").unlink()
    assert TAN_TRAO in resign_channels(timezone.now(), 14)
    assert board_holds(a_board)[0] > rebuilt


def test_a_new_board_finds_every_channel_before_anyone_publishes(console, a_board):
    """Issue 26, 3: a channel nobody had published answered 404, and a new board reported
    sync_failing ("Có vấn đề") until an officer published to it. Every channel of the
    inventory now has a signed, empty manifest from the server's start (rebuild_site, which
    serve runs), and the housekeeping gives one to a commune added later."""
    from django.utils import timezone

    from kiosk.province.fleet.models import Board
    from kiosk.province.server.housekeeping import resign_channels

    shutil.rmtree(console["root"] / "site" / "channels", ignore_errors=True)  # a new province
    assert board_holds(a_board) == (None, [], {"sync_failing"})
    assert province_cli(console, "rebuild-site") == 0
    held, ids, problems = board_holds(a_board)
    assert held >= 1 and ids == [] and not problems
    for channel in ("tinh-08", SON_DUONG, OTHER):
        assert manifest(console["root"], channel, console["key"])["items"] == []

    Board.objects.create(device_id="08-02600-01", unit_name="UBND xã Mới", unit_kind="xa",
                         province_code="08", commune_code="02600")  # fmt: skip
    assert resign_channels(timezone.now(), 14) == ["xa-02600"]
    assert manifest(console["root"], "xa-02600", console["key"])["items"] == []
    assert resign_channels(timezone.now(), 14) == []  # once


def test_a_publication_to_several_channels_goes_out_everywhere_or_nowhere(console, monkeypatch):
    """Issue 23, 3: the second channel's failure rolled the database back while the first was
    already on air, with no audit entry and no way to withdraw it."""
    import kiosk.province.bulletins.publishing as publishing
    from kiosk.province.bulletins.models import AuditEntry, Channel

    admin = client("quan-tri")
    site = console["root"] / "site" / "channels"
    before = {ch: on_air_ids(console, ch) for ch in (TAN_TRAO, SON_DUONG)}

    # a write error in the second channel (a file stands where its folder must go)
    blocked = site / SON_DUONG
    if blocked.exists():
        shutil.rmtree(blocked)
    site.mkdir(parents=True, exist_ok=True)
    blocked.write_text("not a folder")
    pk = write(admin, priority="emergency", targets=[TAN_TRAO, SON_DUONG])
    answer = admin.post(f"/bulletins/{pk}/publish", seen(pk), follow=True)
    assert "chưa xuất bản gì" in answer.content.decode()
    assert on_air_ids(console, TAN_TRAO) == before[TAN_TRAO]  # nowhere
    assert state(pk) == "draft" and not AuditEntry.objects.filter(action="published").exists()
    assert not list(site.glob(f"{TAN_TRAO}/.manifest.json.*"))  # nothing staged left behind
    blocked.unlink()

    # a signing error on the second channel: nowhere either
    real = publishing.stage_channel

    def failing(playlist, *args):
        if playlist.channel == SON_DUONG:
            raise ValueError("the signing device failed")
        return real(playlist, *args)

    monkeypatch.setattr(publishing, "stage_channel", failing)
    answer = admin.post(f"/bulletins/{pk}/publish", seen(pk), follow=True)
    assert "chưa xuất bản gì" in answer.content.decode()
    assert on_air_ids(console, TAN_TRAO) == before[TAN_TRAO] and state(pk) == "draft"
    monkeypatch.undo()

    # the last step failing on one channel after the other went out: the page and the audit
    # log say exactly what is on air, and the housekeeping finishes the job
    (site / SON_DUONG / "manifest.json").mkdir(parents=True)
    (site / SON_DUONG / "manifest.json" / "x").write_text("a folder where a file must go")
    answer = admin.post(f"/bulletins/{pk}/publish", seen(pk), follow=True).content.decode()
    assert f"bt-{pk}" in on_air_ids(console, TAN_TRAO)
    assert f"CHƯA lên được: {SON_DUONG}" in answer and 'id="stale"' in answer
    entry = AuditEntry.objects.get(action="published", bulletin_id=pk)
    assert f"Đã lên bảng tin: {TAN_TRAO} số" in entry.detail and SON_DUONG in entry.detail
    assert Channel.objects.get(name=SON_DUONG).stale
    shutil.rmtree(site / SON_DUONG / "manifest.json")
    from django.utils import timezone

    from kiosk.province.server.housekeeping import resign_channels

    assert SON_DUONG in resign_channels(timezone.now(), 14)
    assert f"bt-{pk}" in on_air_ids(console, SON_DUONG)
    assert not Channel.objects.get(name=SON_DUONG).stale


def test_a_deleted_import_stays_deleted(console, tmp_path):
    """Issue 23, 8: a draft an officer deleted came back at the next import of the same
    alert or feed entry."""
    from django.utils import timezone

    from kiosk.province.bulletins.importing import import_cap, import_feed
    from kiosk.province.bulletins.models import Bulletin
    from tests.test_cap_and_feed_imports import RSS, cap

    feed, alert = tmp_path / "rss.xml", tmp_path / "alert.xml"
    feed.write_bytes(RSS)
    alert.write_bytes(cap(geocode="02263", area="Xã Tân Trào"))
    assert len(import_feed(str(feed), TAN_TRAO, timezone.now()).lines) == 3
    assert len(import_cap(str(alert), timezone.now()).lines) == 1
    admin = client("quan-tri")
    for b in Bulletin.objects.filter(
        title__in=["Thông báo thu thuế", "Cảnh báo lũ quét, sạt lở đất"]
    ):
        assert admin.post(f"/bulletins/{b.pk}/delete").status_code == 302
    assert Bulletin.objects.count() == 2
    assert import_feed(str(feed), TAN_TRAO, timezone.now()).lines == []
    assert import_cap(str(alert), timezone.now()).lines == []
    assert sorted(Bulletin.objects.values_list("title", flat=True)) == [
        "Lịch tiếp công dân tháng 12",
        "Tiêm chủng mở rộng",
    ]


def test_an_admin_resets_a_password_and_disables_an_account(console, capsys, monkeypatch):
    from django.test import Client

    from kiosk.province.accounts.models import ApiToken
    from kiosk.province.bulletins.models import AuditEntry

    monkeypatch.setattr("sys.stdin", io.StringIO("mot-mat-khau-moi-99\n"))
    assert province_cli(console, "user", "reset-password", "tac-gia") == 0
    c = Client()
    assert c.post("/login/", {"username": "tac-gia", "password": PASSWORD}).status_code == 200
    new = {"username": "tac-gia", "password": "mot-mat-khau-moi-99"}
    assert c.post("/login/", new).status_code == 302
    monkeypatch.setattr("sys.stdin", io.StringIO("12345\n"))
    assert province_cli(console, "user", "reset-password", "tac-gia") == 2  # Django's rules
    assert "refused" in capsys.readouterr().err

    from django.contrib.auth import get_user_model
    from django.utils import timezone

    user = get_user_model().objects.get(username="tac-gia")
    ApiToken.objects.create(user=user, token_hash="0" * 64, created_at=timezone.now())
    assert province_cli(console, "user", "disable", "tac-gia") == 0
    assert Client().post("/login/", new).status_code == 200  # nobody logs in with it
    assert not ApiToken.objects.filter(user=user).exists()
    assert {e.action for e in AuditEntry.objects.all()} >= {"password_reset", "disabled"}
    assert "mot-mat-khau" not in str(list(AuditEntry.objects.values_list("detail", flat=True)))


def test_an_image_lost_from_the_uploads_comes_back_from_the_site_or_is_left_out(console):
    """A replaced disk may lose uploads_dir or the site: the same bytes sit in both under one
    hash, so either brings the image back; with both gone, the channel's other bulletins
    (an emergency among them) still go out."""
    from kiosk.province.bulletins.models import Bulletin
    from kiosk.province.bulletins.uploads import uploads_dir

    author, admin = client("tac-gia"), client("duyet-xa")
    photo = write(
        author, kind="image", caption="Lễ hội", image=_upload(png_bytes((320, 200)), "a.png")
    )
    author.post(f"/bulletins/{photo}/submit")
    assert admin.post(f"/bulletins/{photo}/publish", seen(photo)).status_code == 302
    sha = Bulletin.objects.get(pk=photo).image_sha256
    (uploads_dir() / sha).unlink()
    first = write(admin, priority="emergency", title="Lũ quét")
    assert admin.post(f"/bulletins/{first}/publish", seen(first)).status_code == 302
    assert (uploads_dir() / sha).exists()  # brought back from the site's assets
    assert {f"bt-{photo}", f"bt-{first}"} <= set(on_air_ids(console))

    (uploads_dir() / sha).unlink()
    (console["root"] / "site" / "assets" / sha).unlink()
    second = write(admin, priority="emergency", title="Sạt lở")
    assert admin.post(f"/bulletins/{second}/publish", seen(second)).status_code == 302
    ids = on_air_ids(console)
    assert f"bt-{second}" in ids and f"bt-{first}" in ids and f"bt-{photo}" not in ids


def test_text_pasted_into_the_console_is_stored_as_kiosk_publish_signs_it(console):
    """Issue 24, 4: the same bulletin became different signed bytes by its path."""
    from kiosk.core.authoring import parse_playlist
    from kiosk.province.bulletins.models import Bulletin
    from tests.test_pasted_text import PASTED_TEXT

    title, body = PASTED_TEXT.split("\r\n", 1)
    pk = write(client("tac-gia"), title=title, body=body)
    stored = Bulletin.objects.get(pk=pk)
    playlist = parse_playlist(
        {"channel": TAN_TRAO, "items": [{"id": "x", "type": "text", "title": title, "body": body}]},
        console["root"] / "p.toml",
    )
    (wire,) = playlist.wire
    assert (
        (stored.title, stored.body) == (wire["title"], wire["body"]) == ("THÔNG BÁO", wire["body"])
    )
    assert "\u200b" not in stored.body and "\r" not in stored.body


def test_a_phone_photo_uploaded_is_kept_upright_and_without_its_gps(console):
    from kiosk.province.bulletins.models import Bulletin
    from kiosk.province.bulletins.uploads import uploads_dir
    from tests.test_orientation import carries_nothing_of_the_phone, phone_photo

    pk = write(client("tac-gia"), kind="image", image=_upload(phone_photo(), "IMG_0042.JPG"))
    sha = Bulletin.objects.get(pk=pk).image_sha256
    carries_nothing_of_the_phone((uploads_dir() / sha).read_bytes())
