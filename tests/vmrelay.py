"""One guest connection to the host's source: QEMU's guestfwd runs this for each
connection the guest opens to 10.0.2.100:80, with the connection on stdin and stdout.

    python3 tests/vmrelay.py PORT

When nothing listens on 127.0.0.1:PORT (the source is gone), the guest's connection
closes at once, as a refused one would.
"""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading


def pump(read, write) -> None:
    try:
        while chunk := read(65536):
            write(chunk)
    except OSError:
        pass


def main() -> int:
    try:
        upstream = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
    except OSError:
        return 1
    upstream.settimeout(None)

    def to_guest(data: bytes) -> None:
        view = memoryview(data)
        while view:
            view = view[os.write(1, view) :]

    back = threading.Thread(target=pump, args=(upstream.recv, to_guest), daemon=True)
    back.start()
    pump(lambda n: os.read(0, n), upstream.sendall)
    with contextlib.suppress(OSError):
        upstream.shutdown(socket.SHUT_WR)
    back.join(120)
    return 0


if __name__ == "__main__":
    sys.exit(main())
