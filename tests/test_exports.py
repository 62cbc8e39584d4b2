"""Issue 27: a CSV too large to make while the officer waits (a year's report at national
size) is made in the background, at the shipped threshold, into a file only its officer can
fetch; a failure or a stalled export says so and can be asked again; the number made at once
and kept is bounded. In process, on the console's SQLite, with the export's real thread."""

from __future__ import annotations

import csv
import io
import logging
import re
import shutil
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from tests.delivered import deliver_plays
from tests.test_console import TAN_TRAO, client, console  # noqa: F401 (the fixture)

pytestmark = pytest.mark.usefixtures("console")


def _published(n: int) -> list:
    """n bulletins on air today on one commune's channel, as publishing leaves them."""
    from kiosk.province.bulletins.models import Bulletin

    now = timezone.now()
    rows = [
        Bulletin(
            kind="text",
            priority="normal",
            title=f"Thông báo số {k}",
            body="…",
            channels=[TAN_TRAO],
            state="published",
            created_at=now,
            updated_at=now,
            published_at=now - timedelta(seconds=k + 60),
        )
        for k in range(n)
    ]
    return Bulletin.objects.bulk_create(rows, batch_size=2000)


def _today() -> str:
    from kiosk.province.fleet.fleetdata import province_tz

    return str(timezone.now().astimezone(province_tz()).date())


def _settled(officer, address: str) -> str:
    """The export's page once it is no longer being made (it refreshes itself meanwhile)."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        page = officer.get(address).content.decode()
        if "Đang chuẩn bị" not in page:
            return page
        assert '<meta http-equiv="refresh"' in page and "đã ghi" in page
        time.sleep(0.2)
    raise AssertionError("the export was still being made after 120 s")


@pytest.fixture
def exports_folder():
    from kiosk.province.exports.models import Export

    Export.objects.all().delete()
    folder = Path(settings.KIOSK_EXPORTS)
    if folder.is_dir():
        shutil.rmtree(folder)
    yield folder
    if folder.is_file():
        folder.unlink()


def test_a_report_too_large_to_stream_is_made_in_the_background_for_its_officer_alone(
    exports_folder,
):
    from kiosk.province.exports.making import DIRECT_ROWS, KEEP_FOR, prune
    from kiosk.province.fleet.rollup import roll_up

    made = _published(DIRECT_ROWS + 1)
    played = made[-1]  # the first published
    now = timezone.now()
    deliver_plays("08-02263-01", [(TAN_TRAO, f"bt-{played.pk}", now - timedelta(minutes=m), 10.0)
                                  for m in (1, 2, 3)], now)  # fmt: skip
    roll_up()
    admin, day = client("quan-tri"), _today()
    asked = admin.get(f"/reports.csv?from={day}&to={day}")
    assert asked.status_code == 302 and re.fullmatch(r"/exports/[0-9a-f-]{36}/", asked.url)
    page = _settled(admin, asked.url)
    assert "Sẵn sàng" in page and f"{DIRECT_ROWS + 1} dòng" in page
    got = admin.get(asked.url + "file")
    assert got.status_code == 200 and got["Content-Type"] == "text/csv; charset=utf-8"
    assert f'filename="ban-tin-{day}-{day}.csv"' in got["Content-Disposition"]
    table = list(csv.reader(io.StringIO(b"".join(got.streaming_content).decode("utf-8-sig"))))
    assert table[0][:2] == ["Mã", "Tiêu đề"] and len(table) == DIRECT_ROWS + 2
    assert len({row[0] for row in table[1:]}) == DIRECT_ROWS + 1  # each bulletin once
    first = table[1]  # in the order published
    assert first[0] == f"bt-{played.pk}" and first[-3:] == ["1", "3", "30"]
    # the same CSV asked again a moment later is the same file, not a second one made
    assert admin.get(f"/reports.csv?from={day}&to={day}").url == asked.url
    # nobody else's: another officer gets neither the page nor the file
    other = client("duyet-tinh")
    assert other.get(asked.url).status_code == 404
    assert other.get(asked.url + "file").status_code == 404
    files = list(exports_folder.iterdir())
    assert len(files) == 1 and files[0].stat().st_mode & 0o077 == 0
    # kept a day, then gone with its file
    assert prune(timezone.now() + KEEP_FOR + timedelta(minutes=1)) == 1
    assert admin.get(asked.url).status_code == 404 and not list(exports_folder.iterdir())


def test_a_small_report_still_streams_at_once(exports_folder):
    _published(3)
    answer = client("quan-tri").get(f"/reports.csv?from={_today()}&to={_today()}")
    assert answer.status_code == 200 and answer.streaming
    assert len(answer.getvalue().decode("utf-8-sig").splitlines()) == 4


def test_an_export_that_failed_or_stalled_says_so_and_can_be_asked_again(exports_folder, caplog):
    from kiosk.province.exports.making import (
        DIRECT_ROWS,
        FAILED_TEXT,
        MAKING_AT_ONCE,
        STALLED_AFTER,
        STALLED_TEXT,
        prune,
    )
    from kiosk.province.exports.models import Export

    _published(DIRECT_ROWS + 1)
    admin, day = client("quan-tri"), _today()
    address = f"/reports.csv?from={day}&to={day}"
    exports_folder.write_text("not a folder")  # the disk refuses: the thread fails
    with caplog.at_level(logging.ERROR, logger="kiosk.province.exports.making"):
        failed = admin.get(address).url
        page = _settled(admin, failed)
    assert FAILED_TEXT in page and f'href="{address.replace("&", "&amp;")}"' in page
    assert any("failed" in r.getMessage() for r in caplog.records)
    exports_folder.unlink()
    again = admin.get(address).url  # a failed export is not reused
    assert again != failed and "Sẵn sàng" in _settled(admin, again)
    # MAKING_AT_ONCE being made: the next waits, told so in Vietnamese
    now = timezone.now()
    busy = [
        Export.objects.create(
            owner=_user("quan-tri"),
            kind="reports",
            query=f"from={day}&to={day}&n={n}",
            filename="x.csv",
            asked_at=now,
            touched_at=now,
        )
        for n in range(MAKING_AT_ONCE)
    ]
    refused = admin.get(f"/reports.csv?from={day}&to={day}&q=khac")
    assert refused.status_code == 503 and "Hãy thử lại sau vài phút" in refused.content.decode()
    # a worker recycled mid-way leaves exports that stop moving: housekeeping fails them
    prune(now + STALLED_AFTER + timedelta(seconds=1))
    stalled = _settled(admin, f"/exports/{busy[0].pk}/")
    assert STALLED_TEXT in stalled and "Yêu cầu lại" in stalled


def _user(name: str):
    from django.contrib.auth import get_user_model

    return get_user_model().objects.get(username=name)
