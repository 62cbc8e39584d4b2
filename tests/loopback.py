"""The one shape of every test server here: bound to 127.0.0.1 on a free port, serving in a
thread of its own, stopped and closed by the test."""

from __future__ import annotations

import threading


class Loopback:
    """Mixed into a socketserver server class: `serve_in_background`, `url`, `stop`."""

    def serve_in_background(self, poll_s: float = 0.05) -> None:
        threading.Thread(target=self.serve_forever, args=(poll_s,), daemon=True).start()  # type: ignore[attr-defined]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"  # type: ignore[attr-defined]

    def stop(self) -> None:
        self.shutdown()  # type: ignore[attr-defined]
        self.server_close()  # type: ignore[attr-defined]
