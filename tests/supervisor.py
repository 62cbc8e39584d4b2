"""kiosk.service's part, played on a plain machine: the release that `current` names runs as
a real process (`bin/python -I -m kiosk run --headless`), restarted when it exits as
Restart=always would, and "active" once it sent READY=1 on its notify socket, as
Type=notify. The updater talks to it through the same KioskService interface as to
systemd (kiosk/board/switch.py); the boot test in QEMU uses systemd itself."""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import tempfile
import threading
import time
from pathlib import Path

from kiosk.board.switch import ServiceStatus

RESTART_S = 1.0  # kiosk.service says RestartSec=5; a test need not wait as long


class ProcessKiosk:
    def __init__(self, current: Path, config: Path) -> None:
        self.current, self.config = current, config
        self.folder = Path(tempfile.mkdtemp(prefix="nfy", dir="/tmp"))  # a short socket path
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.folder / "notify"))
        self.sock.settimeout(0.2)
        self.proc: subprocess.Popen | None = None
        self.ready = False
        self.restarts = 0
        self.started = 0  # processes started, for the tests' own questions
        self.lock = threading.Lock()
        self.stopping = threading.Event()
        self.restarting = threading.Event()
        self.thread = threading.Thread(target=self._supervise, daemon=True)
        # started by the first restart(): the switch to the board's first release

    def _spawn(self) -> None:
        notify = str(self.folder / "notify")
        env = {**os.environ, "SDL_VIDEODRIVER": "dummy", "NOTIFY_SOCKET": notify,
               "WATCHDOG_USEC": "30000000"}  # fmt: skip
        python = self.current / "bin" / "python"
        self.proc = subprocess.Popen(
            [str(python), "-I", "-m", "kiosk", "run", "--headless", "--config", str(self.config)],
            env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        self.ready = False
        self.started += 1

    def _supervise(self) -> None:
        with self.lock:
            self._spawn()
        while not self.stopping.is_set():
            with contextlib.suppress(TimeoutError):
                if b"READY=1" in self.sock.recv(4096):
                    self.ready = True
            with self.lock:
                proc = self.proc
                if proc is not None and proc.poll() is not None and not self.stopping.is_set():
                    if self.restarting.is_set():
                        self.restarting.clear()
                    else:
                        self.restarts += 1  # an exit nobody asked for: Restart=always
                        time.sleep(RESTART_S)
                    self._spawn()

    def restart(self) -> None:
        if not self.thread.is_alive() and not self.stopping.is_set():
            self.thread.start()
            return
        with self.lock:
            self.restarting.set()
            if self.proc is not None:
                self.proc.terminate()
                try:
                    self.proc.wait(20)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait()
            self.restarts = 0  # as SystemdKiosk.restart has systemd do (reset-failed)

    def status(self) -> ServiceStatus:
        with self.lock:
            running = self.proc is not None and self.proc.poll() is None
            return ServiceStatus(running and self.ready, self.restarts)

    def close(self) -> None:
        self.stopping.set()
        if self.thread.is_alive():
            self.thread.join(5)
        with self.lock:
            if self.proc is not None and self.proc.poll() is None:
                self.proc.terminate()
                try:
                    self.proc.wait(20)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
        self.sock.close()
        (self.folder / "notify").unlink(missing_ok=True)
        self.folder.rmdir()
