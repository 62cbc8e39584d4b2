"""The nginx configuration of docs/protocol.md, run for real on 127.0.0.1: boards sync from
it, get 304s when nothing changed, and resume a cut download with Range."""

from __future__ import annotations

import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from bench.site import free_port
from tests.conftest import ROOT, require_tool
from tests.test_cli import kiosk
from tests.test_publish_cli import SAMPLES, board_config, keygen

LOCATIONS = ROOT / "docs" / "nginx" / "bangtin-locations.conf"


@pytest.fixture
def nginx(tmp_path):
    binary = require_tool("nginx", "nginx-light")
    www = tmp_path / "www"
    conf = tmp_path / "nginx.conf"
    locations = tmp_path / "bangtin-locations.conf"
    locations.write_text(LOCATIONS.read_text().replace("/srv/bangtin/www", str(www)))
    temp = " ".join(
        f"{kind}_temp_path {tmp_path / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    port = free_port()
    conf.write_text(
        f"""daemon off; master_process off; pid {tmp_path / "nginx.pid"};
error_log {tmp_path / "error.log"};
events {{}}
http {{
    log_format plain '$request_method $uri $status "$http_range" "$http_if_none_match"';
    access_log {tmp_path / "access.log"} plain;
    {temp}
    server {{ listen 127.0.0.1:{port}; include {locations}; }}
}}
"""
    )
    proc = subprocess.Popen([binary, "-c", str(conf), "-p", str(tmp_path)], stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}/bangtin"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(url + "/", timeout=1)
        except urllib.error.HTTPError:
            break  # a 404: nginx is up
        except OSError:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            time.sleep(0.05)
    yield url, www / "bangtin", tmp_path / "access.log"
    proc.terminate()
    proc.wait(10)


def access(log: Path) -> list[str]:
    return log.read_text().splitlines() if log.exists() else []


def test_boards_sync_from_the_documented_nginx_configuration(tmp_path, nginx):
    url, site, log = nginx
    key = tmp_path / "province.key"
    public = keygen(key)
    assert (
        kiosk("publish", *map(str, SAMPLES), "--key", str(key), "--out", str(site)).returncode == 0
    )
    config = board_config(tmp_path, url, public)

    first = kiosk("sync", "--once", "--config", str(config))
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.stdout.count(": current: sequence 1") == 2

    seen = len(access(log))
    again = kiosk("sync", "--once", "--config", str(config))
    assert again.returncode == 0
    lines = access(log)[seen:]
    assert len(lines) == 2 and all(" 304 " in line for line in lines), lines

    # a download cut short resumes where it stopped
    asset = next((site / "assets").iterdir())
    board = tmp_path / "board"
    (board / "assets" / asset.name).unlink()
    for derived in (board / "derived").glob(asset.name + "-*"):
        derived.unlink()
    (board / "partial" / asset.name).write_bytes(asset.read_bytes()[:1000])
    seen = len(access(log))
    resumed = kiosk("sync", "--once", "--config", str(config))
    assert resumed.returncode == 0, resumed.stdout
    assert f'GET /bangtin/assets/{asset.name} 206 "bytes=1000-"' in "\n".join(access(log)[seen:])
    assert (board / "assets" / asset.name).read_bytes() == asset.read_bytes()


def test_the_documented_nginx_configuration_serves_nothing_else(tmp_path, nginx):
    url, site, _ = nginx
    site.mkdir(parents=True)
    (site / "secret.key").write_text("x")
    (site / "channels" / "tinh-08").mkdir(parents=True)
    (site / "channels" / "tinh-08" / "manifest.json").write_text("{}")
    with urllib.request.urlopen(url + "/channels/tinh-08/manifest.json", timeout=5) as ok:
        assert ok.headers["Cache-Control"] == "no-cache" and ok.headers["ETag"]
    for path in ("/secret.key", "/", "/channels/", "/assets/../secret.key"):
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(url + path, timeout=5)
        assert caught.value.code == 404, path
    post = urllib.request.Request(url + "/channels/tinh-08/manifest.json", data=b"{}")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(post, timeout=5)
    assert caught.value.code in (403, 405)
