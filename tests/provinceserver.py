"""`kiosk province serve` as a real process on loopback, with its PROVINCE.toml, inventory
and database (SQLite, or a fresh PostgreSQL database), for the tests and the bench."""

from __future__ import annotations

import csv
import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from tests.countingsource import free_port
from tests.services import wait_for_port

ROOT = Path(__file__).resolve().parents[1]
INVENTORY_COLUMNS = (
    "device_id,health_url,unit_name,unit_kind,province_code,commune_code,district,installed_on"
)


def inventory_row(n: int, health_url: str | None = None, district: str = "Sơn Dương") -> dict:
    kind = "phuong" if n % 3 == 0 else "xa"
    return {
        "device_id": f"08-{2000 + n:05d}-01",
        "health_url": health_url or f"http://127.0.0.1:9/{n}/health",
        "unit_name": f"UBND {'phường' if kind == 'phuong' else 'xã'} Số {n}",
        "unit_kind": kind,
        "province_code": "08",
        "commune_code": f"{2000 + n:05d}",
        "district": district,
        "installed_on": "2024-04-01",
    }


def write_inventory(path: Path, rows: list[dict]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, INVENTORY_COLUMNS.split(","))
        writer.writeheader()
        writer.writerows(rows)
    return path


class ProvinceServer:
    def __init__(
        self,
        root: Path,
        database: str,
        rows: list[dict],
        site_dir: Path | None = None,
        push_url: str = "",
        workers: int = 2,
        port: int | None = None,  # a port already handed out (to a VM's forward, say)
    ) -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.root, self.port, self.rows = root, port or free_port(), rows
        if database == "sqlite":
            database = f"sqlite:///{root / 'province.db'}"
        self.database = database
        self.inventory = write_inventory(root / "INVENTORY.csv", rows)
        self.site_dir = site_dir or root / "site"
        push = f'\n[push]\nurl = "{push_url}"\n' if push_url else ""
        self.config = root / "PROVINCE.toml"
        self.config.write_text(
            "[server]\n"
            f'listen = "127.0.0.1:{self.port}"\n'
            f'database = "{database}"\n'
            f'site_dir = "{self.site_dir}"\n'
            f'signing_key = "{root / "province.key"}"\n'
            f'inventory = "{self.inventory}"\n'
            "secure_cookies = false\n"
            f"workers = {workers}\n" + push,
            "utf-8",
        )
        self.proc: subprocess.Popen | None = None
        self.tokens: dict[str, str] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def kiosk(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "kiosk", *args],
            input=stdin,
            capture_output=True,
            text=True,
            cwd=ROOT,
            timeout=120,
        )

    def start(self) -> ProvinceServer:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "kiosk", "province", "serve", "--config", str(self.config)],
            stdout=subprocess.DEVNULL,
            stderr=(self.root / "serve.log").open("ab"),
            cwd=ROOT,
            start_new_session=True,
        )
        wait_for_port(self.port, self.proc, "kiosk province serve", timeout=60)
        return self

    def register(self) -> dict[str, str]:
        """kiosk province boards: every board's new token."""
        out = self.root / f"tokens-{len(self.tokens)}.csv"
        done = self.kiosk(
            "province", "boards", "--config", str(self.config), "--tokens-out", str(out)
        )
        assert done.returncode == 0, done.stderr
        with out.open(encoding="utf-8") as f:
            self.tokens |= {r["device_id"]: r["token"] for r in csv.DictReader(f)}
        return self.tokens

    def api_token(self, name: str = "tech", role: str = "technician") -> str:
        added = self.kiosk(
            "province",
            "user",
            "add",
            name,
            "--role",
            role,
            "--config",
            str(self.config),
            stdin="mat-khau-rat-dai-42\n",
        )
        assert added.returncode == 0, added.stderr
        made = self.kiosk("province", "api-token", name, "--config", str(self.config))
        assert made.returncode == 0, made.stderr
        return made.stdout.strip()

    def workers(self) -> list[int]:
        """The pids of gunicorn's workers (the children of its master)."""
        assert self.proc is not None
        master = [
            int(p)
            for p in Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children")
            .read_text()
            .split()
        ]
        return [
            int(p) for m in master for p in Path(f"/proc/{m}/task/{m}/children").read_text().split()
        ]

    def kill(self, sig: int = signal.SIGKILL) -> None:
        """Signal the whole server (serve, gunicorn's master and workers), and wait until its
        port is closed: a worker dying a moment later still holds the listening socket, and
        a restart must not be taken for up by that dying socket."""
        assert self.proc is not None
        os.killpg(self.proc.pid, sig)
        self.proc.wait(30)
        self.proc = None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.5).close()
            except OSError:
                return
            time.sleep(0.05)
        raise RuntimeError(f"port {self.port} still open 30 s after the server was signalled")

    def stop(self) -> None:
        if self.proc is not None:
            self.kill(signal.SIGTERM)

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        token: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any]:
        req = urllib.request.Request(self.url + path, data=body, method=method)
        req.add_header("Content-Type", "application/json")
        if token:
            req.add_header("Authorization", f"Bearer {token}")
        for k, v in (headers or {}).items():
            req.add_header(k, v)
        try:
            with urllib.request.urlopen(req, timeout=30) as answer:
                status, data = answer.status, answer.read()
        except urllib.error.HTTPError as exc:
            status, data = exc.code, exc.read()
        except (OSError, http.client.HTTPException):  # no answer: the server died mid-way
            return 0, None
        try:
            return status, json.loads(data) if data else None
        except ValueError:
            return status, data.decode("utf-8", "replace")

    def poller(self, query: str):
        """query on one open connection, as a callable: for watching in a tight loop."""
        if self.database.startswith("sqlite"):
            conn = sqlite3.connect(self.database.removeprefix("sqlite:///"))
        else:
            import psycopg

            conn = psycopg.connect(self.database, autocommit=True)
        return lambda: conn.execute(query).fetchall()

    def execute(self, statement: str) -> None:
        if self.database.startswith("sqlite"):
            with sqlite3.connect(self.database.removeprefix("sqlite:///")) as conn:
                conn.execute(statement)
            return
        import psycopg

        with psycopg.connect(self.database) as conn:
            conn.execute(statement)

    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        """Read (or change) the database behind the server's back, as an auditor would;
        parameters are written %s, as in PostgreSQL."""
        if self.database.startswith("sqlite"):
            with sqlite3.connect(self.database.removeprefix("sqlite:///")) as conn:
                return conn.execute(query.replace("%s", "?"), params).fetchall()
        import psycopg

        with psycopg.connect(self.database) as conn:
            return conn.execute(query, params).fetchall()


def console_login(url: str, name: str, password: str):
    """A requests session logged in to the console as an officer would, through the form and
    Django's CSRF check."""
    import re

    import requests

    session = requests.Session()
    session.trust_env = False
    page = session.get(f"{url}/login/", timeout=10)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    done = session.post(f"{url}/login/", data={"username": name, "password": password,
                        "csrfmiddlewaretoken": csrf}, timeout=10)  # fmt: skip
    assert done.status_code == 200 and "Đăng xuất" in done.text, done.text[:500]
    return session


def console_post(session, url: str, page: str, data: dict):
    """A form's POST, with the CSRF token of the page that holds the form."""
    import re

    form = session.get(page, timeout=10).text
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    return session.post(url, data=data | {"csrfmiddlewaretoken": csrf}, timeout=60)
