"""What the panel says about provisioning: the setup screen of a board without a
configuration, and the reasons a new kiosk.toml was refused, read back with Tesseract."""

from __future__ import annotations

from PIL import Image

from kiosk.board.app import import_notice
from kiosk.board.statuspage import NOTICE_TITLE, overlay_text
from kiosk.core.config import load_config
from tests.boards import installer_files
from tests.test_cli import kiosk
from tests.test_ocr import normalise, read_back, tesseract_vie

REFUSED = "/boot/firmware/kiosk.toml: [device] unit_kind: must be one of xa, phuong, got 'xã'\n"


def setup_screen_reads(tmp_path) -> str:
    """What Tesseract reads on the setup screen of a board whose kiosk.toml belongs in
    tmp_path."""
    shot = tmp_path / "setup.png"
    argv = ["--headless", "--once", "--snapshot", str(shot)]
    done = kiosk("setup-screen", *argv, "--config", str(tmp_path / "kiosk.toml"))
    assert done.returncode == 0, done.stderr
    return normalise(read_back(tesseract_vie(), Image.open(shot), tmp_path))


def test_setup_screen_says_the_board_is_not_set_up_and_why(tmp_path):
    (tmp_path / "import-error.txt").write_text(REFUSED, "utf-8")
    text = setup_screen_reads(tmp_path)
    assert normalise("Bảng tin chưa được cài đặt") in text
    assert "unit_kind" in text
    assert normalise("kiosk provision") in text

    (tmp_path / "import-error.txt").unlink()  # a blank card: what to do, no reason
    text = setup_screen_reads(tmp_path)
    assert normalise("chưa có tệp cấu hình") in text
    assert "unit_kind" not in text


def test_a_running_board_shows_why_the_new_file_was_refused(tmp_path):
    files = installer_files(tmp_path)
    config = load_config(files["config"])
    assert import_notice(config) == []
    (tmp_path / "import-error.txt").write_text(REFUSED, "utf-8")
    notice = import_notice(config)
    assert notice == ["kiosk.toml: [device] unit_kind: must be one of xa, phuong, got 'xã'"]
    doc = {
        "device": {"id": "08-02263-01", "unit_name": "UBND xã Tân Trào"},
        "sync": {"last_success_at": None},
        "problems": [],
        "status": "ok",
        "version": "0.1.0",
    }
    _title, lines, _page = overlay_text(doc, [("eth0", "192.0.2.7")], 8080, notice)
    assert lines[:2] == [NOTICE_TITLE, notice[0]]
    assert any("192.0.2.7" in line for line in lines)
