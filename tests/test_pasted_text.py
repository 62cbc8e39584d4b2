"""Text as officers paste it (tests/data/pasted/): one normalisation in the core
(kiosk.core.textrules.clean_text) for every door text comes in by. Through the real
commands: kiosk publish signs the same bytes the console stores, invisible characters never
reach a board, and a title of nothing but invisible characters is refused with its item
named (issue 24, points 2 and 4), never a traceback in kiosk render."""

from __future__ import annotations

import json
import unicodedata
from pathlib import Path

from tests.test_cli import kiosk
from tests.test_publish_cli import keygen, payload

PASTED = (Path(__file__).parent / "data" / "pasted" / "thong-bao-tu-word.txt").read_bytes()
PASTED_TEXT = PASTED.decode("utf-8")  # CRLF and all: read_text() would make them LF
INVISIBLE = ("\ufeff", "\u00ad", "\u200b", "\u200e", "\r", "\t")


def _toml_string(text: str) -> str:
    return json.dumps(text, ensure_ascii=True)  # a TOML basic string, escapes and all


def test_pasted_text_is_signed_as_the_board_shows_it_and_as_the_console_stores_it(tmp_path):
    from kiosk.core.textrules import clean_text

    title, body = PASTED_TEXT.split("\r\n", 1)
    playlist = tmp_path / "xa-02263.toml"
    playlist.write_text(
        'channel = "xa-02263"\n[[items]]\nid = "tb-1"\ntype = "text"\n'
        f"title = {_toml_string(title)}\nbody = {_toml_string(body)}\n",
        "utf-8",
    )
    keygen(tmp_path / "k")
    done = kiosk(
        "publish", str(playlist), "--key", str(tmp_path / "k"), "--out", str(tmp_path / "site")
    )
    assert done.returncode == 0, done.stderr
    (item,) = payload(tmp_path / "site", "xa-02263")["items"]
    for field in ("title", "body"):
        signed = item[field]
        assert signed == unicodedata.normalize("NFC", signed)
        assert not any(c in signed for c in INVISIBLE), repr(signed)
    assert item["title"] == "THÔNG BÁO"
    assert "cổng internet của xã" in item["body"] and "Thời gian: 7 giờ 30" in item["body"]
    assert item["body"] == clean_text(body).strip()  # the console's form and importers too


def test_a_title_of_only_invisible_characters_is_refused_by_name_and_render_does_not_crash(
    tmp_path,
):
    playlist = tmp_path / "xa-02263.toml"
    playlist.write_text(
        'channel = "xa-02263"\n[[items]]\nid = "trong"\ntype = "text"\n'
        'title = "\\u200b\\ufeff\\u00ad"\n',
        "utf-8",
    )
    keygen(tmp_path / "k")
    done = kiosk(
        "publish", str(playlist), "--key", str(tmp_path / "k"), "--out", str(tmp_path / "s")
    )
    assert done.returncode == 2 and "trong" in done.stderr and "Traceback" not in done.stderr
    item = tmp_path / "item.json"
    item.write_text(json.dumps({"id": "a", "type": "text", "title": "\u200b", "body": PASTED_TEXT}))
    rendered = kiosk("render", str(item), "--out", str(tmp_path / "a.png"), "--size", "640x360")
    assert rendered.returncode == 0, rendered.stderr
    assert (tmp_path / "a.png").stat().st_size > 0
