"""The nginx configuration of docs/protocol.md, run for real on 127.0.0.1: boards sync from
it, get 304s when nothing changed, and resume a cut download with Range."""

from __future__ import annotations

import re
import socket
import subprocess
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests
from requests.adapters import HTTPAdapter

from tests.conftest import ROOT, require_tool
from tests.countingsource import free_port
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
    (site / "releases").mkdir()
    (site / "releases" / "rollout.json").write_text("{}")
    (site / "releases" / "1.2.0.json").write_text("{}")
    (site / "releases" / "notes.txt").write_text("x")
    with urllib.request.urlopen(url + "/releases/rollout.json", timeout=5) as ok:
        assert ok.headers["Cache-Control"] == "no-cache" and ok.headers["ETag"]
    with urllib.request.urlopen(url + "/releases/1.2.0.json", timeout=5) as ok:
        assert "immutable" in ok.headers["Cache-Control"]
    for path in ("/secret.key", "/", "/channels/", "/assets/../secret.key", "/releases/",
                 "/releases/notes.txt", "/releases/../secret.key"):  # fmt: skip
        with pytest.raises(urllib.error.HTTPError) as caught:
            urllib.request.urlopen(url + path, timeout=5)
        assert caught.value.code == 404, path
    post = urllib.request.Request(url + "/channels/tinh-08/manifest.json", data=b"{}")
    with pytest.raises(urllib.error.HTTPError) as caught:
        urllib.request.urlopen(post, timeout=5)
    assert caught.value.code in (403, 405)


SITE = ROOT / "provisioning" / "province"


def self_signed(folder: Path) -> tuple[Path, Path]:
    """A certificate for 127.0.0.1 and its key, as certbot would leave them."""
    import datetime
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    chain, private = folder / "fullchain.pem", folder / "privkey.pem"
    chain.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    private.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return chain, private


@pytest.fixture
def province_site(tmp_path):
    """provisioning/province/nginx-bangtin.conf in a real nginx, over TLS on loopback, in
    front of a real province server; the paths and ports of a test, nothing else changed."""
    from tests.provinceserver import ProvinceServer, inventory_row

    binary = require_tool("nginx", "nginx-light")
    www = tmp_path / "www"
    server = ProvinceServer(tmp_path / "p", "sqlite", [inventory_row(1)], site_dir=www / "bangtin")
    # as in production: behind TLS, the session's cookies are only sent over https
    text = server.config.read_text().replace("secure_cookies = false", "secure_cookies = true")
    server.config.write_text(text)
    server.register()
    server.start()
    chain, private = self_signed(tmp_path)
    http, https = free_port(), free_port()
    snippets = {
        "bangtin-locations.conf": LOCATIONS.read_text().replace("/srv/bangtin/www", str(www)),
        "bangtin-proxy.conf": (SITE / "bangtin-proxy.conf").read_text(),
    }
    for name, text in snippets.items():
        (tmp_path / name).write_text(text)
    site = (SITE / "nginx-bangtin.conf").read_text()
    for old, new in (
        ("listen 80;", f"listen 127.0.0.1:{http};"),
        ("listen [::]:80;", ""),
        ("listen 443 ssl http2;", f"listen 127.0.0.1:{https} ssl http2;"),
        ("listen [::]:443 ssl http2;", ""),
        ("/etc/letsencrypt/live/bangtin.example.vn/fullchain.pem", str(chain)),
        ("/etc/letsencrypt/live/bangtin.example.vn/privkey.pem", str(private)),
        ("/etc/nginx/snippets/", f"{tmp_path}/"),
        ("127.0.0.1:8700", f"127.0.0.1:{server.port}"),
        ("server_name bangtin.example.vn;", "server_name 127.0.0.1;"),
    ):
        assert old in site, old
        site = site.replace(old, new)
    (tmp_path / "bangtin.conf").write_text(site)
    temp = " ".join(
        f"{kind}_temp_path {tmp_path / kind};"
        for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    conf = tmp_path / "nginx.conf"
    conf.write_text(
        f"""daemon off; master_process off; pid {tmp_path / "nginx.pid"};
error_log {tmp_path / "error.log"};
events {{}}
http {{ access_log off; {temp} include {tmp_path / "bangtin.conf"}; }}
"""
    )
    proc = subprocess.Popen([binary, "-c", str(conf), "-p", str(tmp_path)], stderr=subprocess.PIPE)
    url = f"https://127.0.0.1:{https}"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", https), 1).close()
            break
        except OSError:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            time.sleep(0.05)
    yield url, f"http://127.0.0.1:{http}", server, chain
    proc.terminate()
    proc.wait(10)
    server.stop()


def test_the_province_site_serves_boards_heartbeats_and_the_console_over_tls(
    province_site, tmp_path
):
    import json

    url, plain, server, chain = province_site
    key = tmp_path / "province.key"
    keygen(key)
    www = server.site_dir.parent
    done = kiosk("publish", str(ROOT / "playlists" / "xa-02263.toml"), "--key", str(key), "--out",
                 str(www / "bangtin"))  # fmt: skip
    assert done.returncode == 0, done.stderr
    https = requests.Session()
    https.trust_env = False  # the machine's REQUESTS_CA_BUNDLE would win over verify
    https.verify = str(chain)
    # the static site, over https and over http (content is signed)
    for base in (url, plain):
        got = requests.get(f"{base}/bangtin/channels/xa-02263/manifest.json", verify=str(chain))
        assert got.status_code == 200 and "payloadType" in got.json()
    # a board's heartbeat through nginx lands in the server's database
    device = server.rows[0]["device_id"]
    now = datetime.now(UTC)  # the server's own clock bounds the plays it stores (SPEC 7.4)
    beat = {
        "device_id": device,
        "sent_at": now.isoformat(),
        "health": {"status": "ok", "problems": []},
        "plays": [{"channel": "xa-02263", "item": "a",
                   "started_at": (now - timedelta(minutes=1)).isoformat(), "duration_s": 10}],
    }  # fmt: skip
    token = {"Authorization": f"Bearer {server.tokens[device]}"}
    sent = https.post(f"{url}/bangtin/devices/{device}/heartbeat", json=beat, headers=token)
    assert sent.status_code == 200 and sent.json() == {"commands": []}
    assert server.sql("SELECT count(*) FROM fleet_play") == [(1,)]
    assert server.sql("SELECT sum(plays) FROM fleet_playday") == [(1,)]
    assert https.get(f"{url}/bangtin/devices/{device}/heartbeat").status_code == 403
    # nginx refuses a body over 1 MiB before the server sees it
    big = https.post(f"{url}/bangtin/devices/{device}/heartbeat", data=b"x" * (2 << 20),
                     headers={**token, "Content-Type": "application/json"})  # fmt: skip
    assert big.status_code == 413
    # /metrics only from this machine: 127.0.0.2 is another address here
    assert https.get(f"{url}/metrics").status_code == 200
    other = requests.Session()
    other.trust_env = False
    other.verify = str(chain)
    other.mount("https://", SourceAddressAdapter("127.0.0.2"))
    assert other.get(f"{url}/metrics").status_code == 403
    # the console: a login through the proxy passes Django's CSRF check over https
    page = https.get(f"{url}/login/")
    assert page.status_code == 200 and "Đăng nhập" in page.text
    # nginx's, so Django's deploy checks W004 and W008 are silenced (server/setup.py)
    assert page.headers["Strict-Transport-Security"] == "max-age=31536000"
    moved = requests.get(f"{plain}/login/", allow_redirects=False)
    assert moved.status_code == 301 and moved.headers["Location"].startswith("https://")
    added = server.kiosk("province", "user", "add", "ky-thuat", "--role", "technician",
                         "--config", str(server.config), stdin="mat-khau-rat-dai-42\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    logged = https.post(
        f"{url}/login/",
        data={"username": "ky-thuat", "password": "mat-khau-rat-dai-42",
              "csrfmiddlewaretoken": csrf, "next": "/boards/"},
        headers={"Referer": f"{url}/login/"},
    )  # fmt: skip
    assert logged.status_code == 200 and logged.url == f"{url}/boards/", logged.text[:500]
    assert "UBND" in logged.text and "Bình thường" in logged.text
    assert all(c.secure for c in https.cookies)  # session cookies only over https
    assert json.loads(https.get(f"{url}/api/v1/boards").text).get("error")  # no API token
    # a flood of logins from one address is slowed by nginx before Django sees it
    codes = [https.get(f"{url}/login/").status_code for _ in range(20)]
    assert 429 in codes and codes[0] in (200, 302)
    assert other.get(f"{url}/login/").status_code == 200  # another address is not held up


class SourceAddressAdapter(HTTPAdapter):
    """requests from a given local address (to be another client of nginx)."""

    def __init__(self, address: str) -> None:
        self.address = address
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.address, 0)
        return super().init_poolmanager(*args, **kwargs)


def test_an_image_over_50_mb_keeps_the_form_and_over_nginxs_limit_says_so_in_vietnamese(
    province_site,
):
    """Issue 26, 4: the upload limit stopped reading the body, so every field after the file
    was lost: "Bản tin hình ảnh cần một ảnh." and three "Trường này là bắt buộc.". Now the
    form comes back with what was typed and says the image is over 50 MB; past nginx's
    60 MiB the officer reads the same words in Vietnamese, not nginx's English 413."""
    url, _plain, server, chain = province_site
    added = server.kiosk("province", "user", "add", "duyet", "--role", "approver",
                         "--config", str(server.config), stdin="mat-khau-rat-dai-42\n")  # fmt: skip
    assert added.returncode == 0, added.stderr
    https = requests.Session()
    https.trust_env = False
    https.verify = str(chain)
    page = https.get(f"{url}/login/")
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    logged = https.post(f"{url}/login/", data={"username": "duyet", "password":
                        "mat-khau-rat-dai-42", "csrfmiddlewaretoken": csrf},
                        headers={"Referer": f"{url}/login/"})  # fmt: skip
    assert "Đăng xuất" in logged.text
    form = https.get(f"{url}/bulletins/new").text
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    target = https.get(f"{url}/bulletins/targets?q=ubnd").json()["targets"][0]["key"]

    def post_image(size: int) -> requests.Response:
        # in the order a browser sends the form: the fields after the file matter most
        fields = [("csrfmiddlewaretoken", (None, csrf)), ("kind", (None, "image")),
                  ("priority", (None, "normal")),
                  ("image", ("anh-le-hoi.jpg", b"\xff\xd8\xff\xe0" + bytes(size), "image/jpeg")),
                  ("caption", (None, "Lễ hội Thành Tuyên 2026")), ("duration", (None, "25")),
                  ("fit", (None, "contain")), ("targets", (None, target))]  # fmt: skip
        return https.post(f"{url}/bulletins/new", files=fields,
                          headers={"Referer": f"{url}/bulletins/new"}, timeout=120)  # fmt: skip

    kept = post_image(51 << 20)
    assert kept.status_code == 200, kept.text[:500]
    assert "Ảnh lớn hơn 50 MB; bảng tin không nhận." in kept.text
    assert "Trường này là bắt buộc" not in kept.text and "cần một ảnh" not in kept.text
    assert 'value="Lễ hội Thành Tuyên 2026"' in kept.text and 'value="25"' in kept.text
    assert server.sql("SELECT count(*) FROM bulletins_bulletin") == [(0,)]
    uploads = server.site_dir.parent / "uploads"  # uploads_dir, beside site_dir
    assert not uploads.exists() or not any(uploads.iterdir())  # nothing of it kept

    refused = post_image(61 << 20)
    assert refused.status_code == 413
    assert refused.headers["Content-Type"].startswith("text/html")
    assert "Ảnh lớn hơn 50 MB; bảng tin không nhận." in refused.content.decode("utf-8")
    assert "Quay lại biểu mẫu" in refused.content.decode("utf-8")
