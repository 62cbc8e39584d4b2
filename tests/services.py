"""Real PostgreSQL and Mosquitto servers for the tests: Debian's binaries, started in a temp
directory on a free loopback port as the tests' own processes, stopped after them.

Without the package, MissingTool names it: a test skips (or, under CI=true, fails) with
that message (tests/conftest.py's require_tool), the bench stops with it."""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

from tests.countingsource import free_port


class MissingTool(RuntimeError):
    """A system tool the caller needs is not installed: the message names its package."""


def find_tool(name: str, package: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise MissingTool(f"{name} is not installed (Debian package: {package})")
    return path


def wait_for_port(port: int, proc: subprocess.Popen, what: str, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not listen on {port} within {timeout} s")


def _as_user(user: str) -> list[str]:
    """initdb and postgres refuse to run as root: CI runs as root, a laptop does not."""
    return ["runuser", "-u", user, "--"] if os.geteuid() == 0 else []


def postgres_bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if found:
        return found[-1]
    return find_tool(name, "postgresql")


class Postgres:
    """A PostgreSQL cluster of our own; database() makes a fresh database in it."""

    def __init__(self, root: Path) -> None:
        self.root, self.port = root, free_port()
        self.data = root / "data"
        self.data.mkdir(parents=True)
        if os.geteuid() == 0:
            shutil.chown(root, "postgres", "postgres")
            shutil.chown(self.data, "postgres", "postgres")
        initdb = postgres_bin("initdb")
        subprocess.run(
            [
                *_as_user("postgres"),
                initdb,
                "-D",
                str(self.data),
                "-A",
                "trust",
                "-U",
                "kiosk",
                "--no-sync",
                "-E",
                "UTF8",
                "--locale",
                "C",
            ],
            check=True,
            capture_output=True,
        )
        self.proc = subprocess.Popen(
            [
                *_as_user("postgres"),
                postgres_bin("postgres"),
                "-D",
                str(self.data),
                "-p",
                str(self.port),
                "-h",
                "127.0.0.1",
                "-k",
                str(root),
                "-c",
                "max_connections=200",
                "-c",
                "shared_buffers=128MB",
            ],
            stdout=subprocess.DEVNULL,
            stderr=(root / "postgres.log").open("wb"),
        )
        wait_for_port(self.port, self.proc, "postgres")
        self.count = 0

    def database(self) -> str:
        """A new empty database; its URL as PROVINCE.toml writes it."""
        import psycopg

        self.count += 1
        name = f"province{self.count}"
        with psycopg.connect(self.url("postgres"), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def url(self, name: str) -> str:
        return f"postgresql://kiosk@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)  # fast shutdown
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()


class Mosquitto:
    """An MQTT broker on a loopback port; stop() and start() again on the same port."""

    def __init__(self, root: Path) -> None:
        self.binary = shutil.which("mosquitto") or find_tool("/usr/sbin/mosquitto", "mosquitto")
        self.root, self.port = root, free_port()
        root.mkdir(parents=True, exist_ok=True)
        self.conf = root / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence false\n"
            "log_dest stderr\n"
        )
        os.chmod(root, 0o755)
        os.chmod(self.conf, 0o644)
        self.proc: subprocess.Popen | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"mqtt://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [self.binary, "-c", str(self.conf)],
            stdout=subprocess.DEVNULL,
            stderr=(self.root / "mosquitto.log").open("ab"),
        )
        wait_for_port(self.port, self.proc, "mosquitto")

    def stop(self) -> None:
        if self.proc is not None:
            self.proc.terminate()
            self.proc.wait(10)
            self.proc = None


@contextlib.contextmanager
def postgres_cluster() -> Iterator[Postgres]:
    """A cluster in a folder of its own under /tmp: pytest's folders are closed to the
    postgres user that the server runs as under root."""
    root = Path(tempfile.mkdtemp(prefix="kiosk-postgres-"))
    try:
        pg = Postgres(root)
        try:
            yield pg
        finally:
            pg.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)
