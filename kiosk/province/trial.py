"""`kiosk province try`: the province on one machine, for a newcomer to see it work before
any systemd, nginx, TLS or Mosquitto: the province server, the static signed site that
boards sync from, and (with --board) a board showing it, all on loopback.

The first run makes everything it needs in one folder (a signing key, a sample inventory of
one commune, PROVINCE.toml, three accounts, the board's kiosk.toml and token); later runs
reuse it, so what was published stays. The files are the real ones, laid out as a province
lays them out, so each can be read as an example. Nothing here is fit for production:
cookies go over plain http and every port is loopback only."""

from __future__ import annotations

import argparse
import contextlib
import csv
import json
import os
import secrets
import subprocess
import sys
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kiosk.core.errors import UsageError
from kiosk.core.fsutil import atomic_write
from kiosk.core.signing import load_private_key, public_key_text, raw_public_key, write_private_key
from kiosk.paths import user_cache_dir

DEVICE = "08-02263-01"
INVENTORY = (
    "device_id,health_url,unit_name,unit_kind,province_code,commune_code,district,installed_on\n"
    f"{DEVICE},http://127.0.0.1:{{board_port}}/health,UBND xã Tân Trào,xa,08,02263,,2026-01-01\n"
)
ACCOUNTS = (  # (name, role): an author writes, an approver publishes, the admin does both
    ("quan-tri", "admin"),
    ("tac-gia", "author"),
    ("duyet", "approver"),
)
TRIAL_POLL_S = 10  # the board looks for new content this often (no broker on a laptop)


@dataclass(frozen=True)
class Trial:
    """The folder of a trial and the ports it serves on."""

    base: Path
    port: int = 8700
    site_port: int = 8765
    board_port: int = 8080

    @property
    def province_toml(self) -> Path:
        return self.base / "PROVINCE.toml"

    @property
    def board_toml(self) -> Path:
        return self.base / "board" / "kiosk.toml"

    @property
    def accounts_file(self) -> Path:
        return self.base / "accounts.txt"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def site_url(self) -> str:
        return f"http://127.0.0.1:{self.site_port}"


def _q(value: object) -> str:
    """A TOML basic string (JSON's escapes are TOML's): a folder may hold any character."""
    return json.dumps(str(value), ensure_ascii=False)


WRITTEN_AGAIN = "# Written again at each run of kiosk province try: edit a copy, not this file."


def province_toml(t: Trial) -> str:
    return f"""# A trial province on one machine (kiosk province try); not for production.
{WRITTEN_AGAIN}
[server]
listen = "127.0.0.1:{t.port}"
database = {_q(f"sqlite:///{t.base / 'province.db'}")}
site_dir = {_q(t.base / "site")}
signing_key = {_q(t.base / "province.key")}
inventory = {_q(t.base / "INVENTORY.csv")}
uploads_dir = {_q(t.base / "uploads")}
secret_key_file = {_q(t.base / "secret.key")}
secure_cookies = false             # plain http on loopback; true behind nginx with TLS
workers = 2
"""


def board_toml(t: Trial, public_key: str) -> str:
    return f"""# A trial board of the trial province (kiosk province try --board).
{WRITTEN_AGAIN}
# A real board's file is the same but for its addresses, paths and poll (docs/spec.md 3.1).
[device]
id = "{DEVICE}"
name = "Bảng tin UBND xã Tân Trào (thử)"
unit_name = "UBND xã Tân Trào"
unit_kind = "xa"
province_code = "08"
commune_code = "02263"
timezone = "Asia/Ho_Chi_Minh"

[source]
url = "{t.site_url}"
channels = ["tinh-08", "xa-02263"]
public_keys = ["{public_key}"]
token_file = {_q(t.base / "board" / "token")}
heartbeat_url = "{t.url}/devices/{DEVICE}/heartbeat"
poll_seconds = {TRIAL_POLL_S}

[display]
size = "1280x720"

[health]
listen = "127.0.0.1:{t.board_port}"

[storage]
dir = {_q(t.base / "board" / "cache")}
"""


def prepare_files(t: Trial) -> str:
    """The trial's files: the key made on the first run and kept, the rest written again at
    every run (so --port and its kin take effect); returns the public key."""
    (t.base / "board").mkdir(parents=True, exist_ok=True)
    os.chmod(t.base, 0o700)  # the key, the token and the passwords are in here
    key_path = t.base / "province.key"
    if not key_path.exists():
        write_private_key(key_path, Ed25519PrivateKey.generate())
    public = public_key_text(raw_public_key(load_private_key(key_path)))
    atomic_write(t.base / "INVENTORY.csv", INVENTORY.format(board_port=t.board_port).encode())
    atomic_write(t.province_toml, province_toml(t).encode())
    atomic_write(t.board_toml, board_toml(t, public).encode())
    return public


def prepare_database(t: Trial) -> None:
    """The inventory's board registered (at every run: its address may have moved), its
    token into the board's folder and the three accounts with new passwords written to
    accounts.txt (0600) on the first run."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from kiosk.province.accounts.models import Profile
    from kiosk.province.fleet.registry import issue_tokens, register_boards

    register_boards(_config())
    token = t.base / "board" / "token"
    if not token.exists():
        tokens = t.base / "TOKENS.csv"
        tokens.unlink(missing_ok=True)
        issue_tokens(_config(), tokens, reissue=[DEVICE])
        with tokens.open(encoding="utf-8") as f:
            row = next(r for r in csv.DictReader(f) if r["device_id"] == DEVICE)
        atomic_write(token, row["token"].encode(), mode=0o600)
    users = get_user_model()
    if users.objects.exists():
        return
    lines = []
    with transaction.atomic():
        for name, role in ACCOUNTS:
            password = secrets.token_urlsafe(12)
            user = users(username=name, is_superuser=role == "admin", is_staff=role == "admin")
            user.set_password(password)
            user.save()
            Profile.objects.create(user=user, role=role, channels=[])
            lines.append(f"{name}\t{role}\t{password}\n")
    atomic_write(t.accounts_file, "".join(lines).encode(), mode=0o600)


def _config():
    from django.conf import settings

    return settings.KIOSK_PROVINCE


def _site_rebuilt() -> str:
    from kiosk.province.bulletins.publishing import PublishError, rebuild_site

    try:
        outcome = rebuild_site(datetime.now().astimezone())
    except PublishError as exc:
        raise UsageError(f"the site cannot be written: {exc}") from None
    return outcome.detail()


def _board_process(t: Trial, headless: bool) -> subprocess.Popen:
    argv = [sys.executable, "-m", "kiosk", "run", "--config", str(t.board_toml)]
    if headless:
        argv += ["--headless", "--snapshot", str(t.base / "board" / "screen.png")]
    return subprocess.Popen(argv)


def try_command(args: argparse.Namespace) -> int:
    from kiosk.demo.sitesrv import start_site
    from kiosk.province.provincecmd import serve_until_stopped, setup

    base = Path(args.dir) if args.dir else user_cache_dir() / "province"
    t = Trial(base.resolve(), args.port, args.site_port, args.board_port)
    prepare_files(t)
    setup(t.province_toml)
    prepare_database(t)
    print(f"site: {_site_rebuilt() or 'every channel current'}", flush=True)
    site = start_site(t.base / "site", t.site_port, "--site-port")
    board = _board_process(t, args.headless) if args.board else None
    print(
        f"The trial province is in {t.base}.\n"
        f"  console:  {t.url}/  (accounts and passwords: {t.accounts_file})\n"
        f"  site:     {t.site_url}/  (what boards sync from)\n"
        + (f"  board:    http://127.0.0.1:{t.board_port}/  ({t.board_toml})\n" if board else "")
        + "Stop with Ctrl+C.",
        flush=True,
    )
    try:
        return serve_until_stopped(_config())
    finally:
        site.stop()
        if board is not None:
            board.terminate()
            with contextlib.suppress(subprocess.TimeoutExpired):
                board.wait(timeout=10)
            if board.poll() is None:
                board.kill()
