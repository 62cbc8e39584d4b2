"""The province's commands and `kiosk sync --once`, as processes: keygen, publish, sync."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import shutil
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from kiosk.core.signing import verify_envelope
from kiosk.demo.sitesrv import SiteServer
from tests.conftest import ROOT
from tests.test_cli import kiosk
from tests.test_config import GOOD

TRUSTED_KEY = "ed25519:A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="
SAMPLES = sorted((ROOT / "playlists").glob("*.toml"))


def keygen(path: Path) -> str:
    done = kiosk("keygen", "--out", str(path))
    assert done.returncode == 0, done.stderr
    return done.stdout.strip()


def payload(site: Path, channel: str) -> dict:
    env = json.loads((site / "channels" / channel / "manifest.json").read_bytes())
    return json.loads(base64.b64decode(env["payload"]))


def board_config(tmp_path: Path, url: str, public_key: str, storage: Path | None = None) -> Path:
    """The spec's sample kiosk.toml, pointed at this source, key and cache."""
    text = (
        GOOD.replace("https://source.example.vn/bangtin", url)
        .replace(TRUSTED_KEY, public_key)
        .replace('"/var/lib/kiosk"', f'"{storage or tmp_path / "board"}"')
        .replace('size = "auto"', 'size = "640x360"')
        # on all day: what a live kiosk shows must not depend on the hour the tests run at
        .replace('on_hours = ["05:30-22:30"]', 'on_hours = ["00:00-24:00"]')
        .replace('token_file = "/etc/kiosk/token"\n', "")
    )
    path = tmp_path / "kiosk.toml"
    path.write_text(text, "utf-8")
    return path


def test_keygen_writes_a_private_key_only_its_owner_reads_and_never_overwrites(tmp_path):
    key = tmp_path / "province.key"
    public = keygen(key)
    assert public.startswith("ed25519:") and len(base64.b64decode(public[8:])) == 32
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    before = key.read_bytes()
    again = kiosk("keygen", "--out", str(key))
    assert again.returncode == 2 and "never overwritten" in again.stderr
    assert key.read_bytes() == before
    assert before.decode() not in again.stdout + again.stderr
    # the public key printed again from the key, for a board's kiosk.toml (issue 26, 1)
    shown = kiosk("keygen", "--public-of", str(key))
    assert shown.returncode == 0 and shown.stdout.strip() == public
    assert before.decode() not in shown.stdout + shown.stderr
    wrong = kiosk("keygen", "--public-of", str(tmp_path / "missing.key"))
    assert wrong.returncode == 2 and "cannot be read" in wrong.stderr


def test_publish_writes_the_static_site_signed_and_numbered(tmp_path):
    key, site = tmp_path / "k", tmp_path / "site"
    public = keygen(key)
    done = kiosk("publish", *map(str, SAMPLES), "--key", str(key), "--out", str(site))
    assert done.returncode == 0, done.stderr
    assert "tinh-08: sequence 1" in done.stdout and "xa-02263: sequence 1" in done.stdout
    for channel in ("tinh-08", "xa-02263"):
        envelope = (site / "channels" / channel / "manifest.json").read_bytes()
        doc = json.loads(verify_envelope(envelope, [public]))
        assert doc["channel"] == channel and doc["sequence"] == 1 and doc["format"] == 1
        expires = datetime.fromisoformat(doc["expires_at"])
        assert abs(expires - datetime.now(UTC) - timedelta(days=14)) < timedelta(minutes=5)
        for item in doc["items"]:
            assert "file" not in item
            if item["type"] == "image":
                data = (site / "assets" / item["asset"]["sha256"]).read_bytes()
                assert hashlib.sha256(data).hexdigest() == item["asset"]["sha256"]
                assert len(data) == item["asset"]["size"]
    again = kiosk(
        "publish", str(SAMPLES[0]), "--key", str(key), "--out", str(site), "--expires-days", "3"
    )
    assert again.returncode == 0 and "(0 new)" in again.stdout
    doc = payload(site, "tinh-08")
    assert doc["sequence"] == 2
    assert datetime.fromisoformat(doc["expires_at"]) - datetime.fromisoformat(
        doc["issued_at"]
    ) == timedelta(days=3)


def test_publish_refuses_a_sequence_boards_would_take_for_a_rollback(tmp_path):
    key, site = tmp_path / "k", tmp_path / "site"
    keygen(key)
    args = ("publish", str(SAMPLES[0]), "--key", str(key), "--out", str(site))
    assert kiosk(*args, "--sequence", "5").returncode == 0
    before = (site / "channels" / "tinh-08" / "manifest.json").read_bytes()
    done = kiosk(*args, "--sequence", "4")
    assert done.returncode == 2 and "rollback" in done.stderr
    assert (site / "channels" / "tinh-08" / "manifest.json").read_bytes() == before


def test_publish_with_a_bad_item_publishes_nothing_and_names_it(tmp_path):
    key, site = tmp_path / "k", tmp_path / "site"
    keygen(key)
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'channel = "tinh-08"\n[[items]]\nid = "ok"\ntype = "text"\ntitle = "Tốt"\n'
        '[[items]]\nid = "x"\ntype = "text"\ntitle = "Xấu"\nduration = 1\n',
        "utf-8",
    )
    done = kiosk("publish", str(bad), "--key", str(key), "--out", str(site))
    assert done.returncode == 2
    assert "nothing was published" in done.stderr
    assert f"{bad}: item 'x' (#2): field 'duration'" in done.stderr
    assert not site.exists()


def test_publish_with_a_key_that_is_not_one_exits_2(tmp_path):
    not_key = tmp_path / "k"
    not_key.write_text("hello")
    done = kiosk("publish", str(SAMPLES[0]), "--key", str(not_key), "--out", str(tmp_path / "s"))
    assert done.returncode == 2 and "PEM private key" in done.stderr
    assert "Traceback" not in done.stderr


@pytest.fixture
def served(tmp_path):
    key, site = tmp_path / "k", tmp_path / "site"
    public = keygen(key)
    assert (
        kiosk("publish", *map(str, SAMPLES), "--key", str(key), "--out", str(site)).returncode == 0
    )
    server = SiteServer(("127.0.0.1", 0), site)
    server.start()
    yield server, public, key
    server.stop()


def test_sync_once_exits_0_when_every_channel_is_current(tmp_path, served):
    server, public, _ = served
    config = board_config(tmp_path, server.url, public)
    done = kiosk("sync", "--once", "--config", str(config))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "tinh-08: current: sequence 1" in done.stdout
    assert "xa-02263: current: sequence 1" in done.stdout
    again = kiosk("sync", "--once", "--config", str(config))
    assert again.returncode == 0 and "(updated)" not in again.stdout


def test_sync_once_exits_1_naming_each_problem_code(tmp_path, served):
    server, _, _ = served
    stranger = keygen(tmp_path / "stranger.key")
    config = board_config(tmp_path, server.url, stranger)
    done = kiosk("sync", "--once", "--config", str(config))
    assert done.returncode == 1
    assert done.stdout.count("signature_invalid:") == 2
    assert "tinh-08: NOT current: no content" in done.stdout
    server.stop()
    down = kiosk("sync", "--once", "--config", str(config))
    assert down.returncode == 1 and down.stdout.count("sync_failing:") == 2


def test_sync_once_on_a_full_disk_names_disk_low_and_keeps_the_text(tmp_path, served):
    """A real, small file system for the cache (tmpfs in a private mount namespace)."""
    server, public, _ = served
    if shutil.which("unshare") is None:
        pytest.skip("unshare is not installed (Debian package: util-linux)")
    storage = tmp_path / "small"
    storage.mkdir()
    config = board_config(tmp_path, server.url, public, storage)
    probe = subprocess.run(["unshare", "-rm", "true"], capture_output=True)
    if probe.returncode != 0:
        if os.environ.get("CI") == "true":
            pytest.fail(f"unshare -rm is not permitted here: {probe.stderr!r}")
        pytest.skip("unshare -rm (user and mount namespaces) is not permitted here")
    script = (
        f"mount -t tmpfs -o size=2m tmpfs {storage} && "
        f"{sys.executable} -m kiosk sync --once --config {config}; "
        f"echo exit=$?; ls {storage}/assets | wc -l; ls {storage}/channels"
    )
    done = subprocess.run(
        ["unshare", "-rm", "sh", "-c", script], capture_output=True, text=True, timeout=120
    )
    assert "exit=1" in done.stdout, done.stdout + done.stderr
    assert "disk_low:" in done.stdout and "less than 256 MiB free" in done.stdout
    assert "tinh-08.json" in done.stdout and "xa-02263.json" in done.stdout
    assert "\n0\n" in done.stdout  # no image stored


def test_a_photo_cut_off_in_the_copy_is_refused_before_signing_and_render_says_so(tmp_path):
    """Issue 24, 3 and 9: a truncated JPEG passed the magic-byte check, was signed, then
    refused by every board; kiosk render crashed (IndexError) or said it wrote a file."""
    images = tmp_path / "images"
    images.mkdir()
    cut_off = Path(__file__).parent / "data" / "photos" / "cut-off.jpg"
    (images / "le-hoi.jpg").write_bytes(cut_off.read_bytes())
    playlist = tmp_path / "xa-02263.toml"
    playlist.write_text(
        'channel = "xa-02263"\n[[items]]\nid = "anh"\ntype = "image"\nfile = "images/le-hoi.jpg"\n',
        "utf-8",
    )
    keygen(tmp_path / "k")
    site = tmp_path / "site"
    done = kiosk("publish", str(playlist), "--key", str(tmp_path / "k"), "--out", str(site))
    assert done.returncode == 2 and "le-hoi.jpg" in done.stderr, done.stderr
    assert "cannot be decoded" in done.stderr and "Traceback" not in done.stderr
    assert not (site / "channels").exists()  # nothing signed, nothing written

    for out in ("sheet.png", "slides"):
        rendered = kiosk("render", str(playlist), "--out", str(tmp_path / out))
        assert rendered.returncode == 2 and "Traceback" not in rendered.stderr, rendered.stderr
        assert "anh" in rendered.stderr and "nothing written" in rendered.stderr
        assert "wrote" not in rendered.stdout
        assert not (tmp_path / out).exists() or not any((tmp_path / out).iterdir())
