"""A board image running in QEMU, for tests/test_boot.py, seen from outside as a technician
and a passer-by see a board: its screen (QMP's screendump of the virtual GPU), its health
port (forwarded to 127.0.0.1), and its power plug (killing QEMU is a power cut: what the
guest's page cache held is lost).

Inside the guest, the tests act through QEMU's guest agent (only the VM image has it,
provisioning/image/build.sh): a kill, a SIGSTOP, a look at a file.

Under TCG (this workplace's KVM boots no Debian kernel), with AVX hidden from the guest:
QEMU 7.2 faults on Mesa llvmpipe's AVX gathers.
"""

from __future__ import annotations

import base64
import json
import random
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from tests.conftest import ROOT

GUEST_SOURCE = "10.0.2.100"  # where the guest reaches the host's source (guestfwd)
PANEL = (1920, 1080)


class VMError(RuntimeError):
    pass


def _lines(sock: socket.socket, deadline: float):
    """JSON documents, one a line, until the deadline."""
    buf = b""
    while True:
        while b"\n" not in buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError("no answer")
            sock.settimeout(left)
            chunk = sock.recv(65536)
            if not chunk:
                raise ConnectionError("closed")
            buf += chunk
        line, _, buf = buf.partition(b"\n")
        line = line.strip(b"\xff \r")
        if line:
            yield json.loads(line)


class Agent:
    """QEMU's guest agent: a new connection a call, resynchronised with guest-sync so that
    an answer left over from an earlier call is never taken for this one's."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def call(self, execute: str, arguments: dict | None = None, timeout: float = 10) -> Any:
        deadline = time.monotonic() + timeout
        with socket.socket(socket.AF_UNIX) as sock:
            sock.settimeout(timeout)
            sock.connect(str(self.path))
            token = random.randrange(1 << 30)
            sock.sendall(
                json.dumps({"execute": "guest-sync", "arguments": {"id": token}}).encode() + b"\n"
            )
            answers = _lines(sock, deadline)
            while next(answers).get("return") != token:
                pass
            sock.sendall(json.dumps({"execute": execute, "arguments": arguments or {}}).encode())
            answer = next(answers)
        if "error" in answer:
            raise VMError(f"{execute}: {answer['error']}")
        return answer["return"]

    def ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                self.call("guest-ping", timeout=3)
                return True
            except (OSError, TimeoutError, ValueError, VMError):
                time.sleep(1)
        return False

    def run(self, command: str, timeout: float = 60) -> subprocess.CompletedProcess:
        """A shell command as root in the guest."""
        started = self.call(
            "guest-exec",
            {"path": "/bin/sh", "arg": ["-c", command], "capture-output": True},
        )
        pid = started["pid"]
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            status = self.call("guest-exec-status", {"pid": pid})
            if status["exited"]:
                out = base64.b64decode(status.get("out-data", "")).decode(errors="replace")
                err = base64.b64decode(status.get("err-data", "")).decode(errors="replace")
                return subprocess.CompletedProcess(command, status.get("exitcode", -1), out, err)
            time.sleep(0.5)
        raise TimeoutError(f"{command}: still running after {timeout} s")


class Monitor:
    """QMP: the machine's own controls (the screen, the power)."""

    def __init__(self, path: Path, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                self.sock = socket.socket(socket.AF_UNIX)
                self.sock.connect(str(path))
                break
            except OSError:
                self.sock.close()
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        self.answers = _lines(self.sock, time.monotonic() + 3600)
        next(self.answers)  # the greeting
        self.call("qmp_capabilities")

    def call(self, execute: str, **arguments) -> object:
        self.sock.sendall(json.dumps({"execute": execute, "arguments": arguments}).encode())
        for answer in self.answers:
            if "return" in answer:
                return answer["return"]
            if "error" in answer:
                raise VMError(f"{execute}: {answer['error']}")
        raise VMError(f"{execute}: no answer")

    def close(self) -> None:
        self.sock.close()


@dataclass
class Ports:
    health: int  # on 127.0.0.1, forwarded to the guest's 8080
    source: int  # on 127.0.0.1, reached by the guest at http://10.0.2.100/
    province: int | None = None  # on 127.0.0.1, reached at http://10.0.2.100:8700/ (when set)


class Machine:
    """One QEMU process: a boot of the image, until it is shut down or its plug pulled."""

    def __init__(self, image: Path, work: Path, ports: Ports) -> None:
        self.image = image
        self.work = work
        self.ports = ports
        self.qmp_path = work / "qmp.sock"
        self.agent = Agent(work / "qga.sock")
        self.console = work / "console.log"
        self.proc: subprocess.Popen | None = None
        self.monitor: Monitor | None = None
        self.started = 0.0

    def command(self) -> list[str]:
        relay = f"{sys.executable} {ROOT / 'tests' / 'vmrelay.py'}"
        nic = (
            "user,model=virtio-net-pci,restrict=on,"
            f"hostfwd=tcp:127.0.0.1:{self.ports.health}-:8080,"
            f"guestfwd=tcp:{GUEST_SOURCE}:80-cmd:{relay} {self.ports.source}"
        )
        if self.ports.province is not None:  # the province server, for heartbeats
            nic += f",guestfwd=tcp:{GUEST_SOURCE}:8700-cmd:{relay} {self.ports.province}"
        return [
            "qemu-system-x86_64",
            "-machine", "q35",
            "-accel", "tcg,thread=multi",
            "-cpu", "max,-avx,-avx2",
            "-smp", "2",
            "-m", "1536",
            "-drive", f"file={self.image},format=raw,if=virtio",
            "-vga", "none",
            "-device", f"virtio-gpu-pci,xres={PANEL[0]},yres={PANEL[1]}",
            "-display", "none",
            "-nic", nic,
            "-chardev", f"socket,id=qga,path={self.agent.path},server=on,wait=off",
            "-device", "virtio-serial-pci",
            "-device", "virtserialport,chardev=qga,name=org.qemu.guest_agent.0",
            "-qmp", f"unix:{self.qmp_path},server=on,wait=off",
            "-chardev", f"file,id=serial,path={self.console},append=on",
            "-serial", "chardev:serial",
            "-no-reboot",
        ]  # fmt: skip

    def start(self) -> None:
        for stale in (self.qmp_path, self.agent.path):
            stale.unlink(missing_ok=True)
        with self.console.open("a") as console:
            console.write(f"\n===== boot at {time.strftime('%H:%M:%S')} =====\n")
        log = (self.work / "qemu.log").open("ab")
        self.proc = subprocess.Popen(
            self.command(), stdout=log, stderr=log, stdin=subprocess.DEVNULL, cwd=self.work
        )
        self.started = time.monotonic()
        self.monitor = Monitor(self.qmp_path)

    def running(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def screendump(self, path: Path) -> Image.Image:
        assert self.monitor is not None
        ppm = path.with_suffix(".ppm")
        self.monitor.call("screendump", filename=str(ppm))
        with Image.open(ppm) as img:
            frame = img.convert("RGB")
        ppm.unlink()
        frame.save(path)
        return frame

    def power_cut(self) -> None:
        """SIGKILL: the guest's page cache and its disk's unwritten state die with it."""
        if self.proc is not None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(30)
        self._closed()

    def _closed(self) -> None:
        if self.monitor is not None:
            self.monitor.close()
            self.monitor = None
