"""The comparison: the same slide shown by a browser in kiosk mode, as most Raspberry Pi
signage does it. Debian's Chromium, headless, software rendering (as the kiosk's own figures
are taken without a GPU), loads a local page that draws the slide with the kiosk's font and
colours; the page reports when its first full frame is painted."""

from __future__ import annotations

import html
import json
import shutil
import subprocess
import threading
import time
from http import HTTPStatus
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from bench import procstat
from bench.content import BODY, TICKER, TITLE, UNIT
from kiosk.render.theme import NORMAL

FONTS = Path(__file__).resolve().parents[1] / "kiosk" / "fonts"
FLAGS = [
    "--headless",
    "--disable-gpu",
    "--no-first-run",
    "--disable-quic",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
    "--mute-audio",
    "--window-size=1920,1080",
]


def _rgb(colour: tuple[int, int, int]) -> str:
    return "rgb({},{},{})".format(*colour)


def slide_page(ticker: bool) -> str:
    """The kiosk's text slide as HTML: header with the unit and a clock that changes each
    minute, title and body, and (when asked) the ticker scrolling at the kiosk's speed."""
    t = NORMAL
    band = f'<div id="ticker"><span>{html.escape(TICKER)}</span></div>' if ticker else ""
    return f"""<!doctype html>
<html lang="vi"><head><meta charset="utf-8"><title>Bảng tin</title><style>
@font-face {{ font-family: Noto; src: url(NotoSans-Regular.ttf); }}
@font-face {{ font-family: Noto; font-weight: bold; src: url(NotoSans-Bold.ttf); }}
html, body {{ margin: 0; width: 1920px; height: 1080px; overflow: hidden;
  background: {_rgb(t.background)}; color: {_rgb(t.text)}; font-family: Noto; }}
header {{ height: 108px; background: {_rgb(t.header_bg)}; color: {_rgb(t.header_text)};
  display: flex; justify-content: space-between; align-items: center; padding: 0 40px;
  font-size: 46px; font-weight: bold; }}
main {{ padding: 60px 80px; }}
h1 {{ color: {_rgb(t.title)}; font-size: 76px; margin: 0 0 40px; }}
p {{ font-size: 56px; line-height: 1.3; margin: 0; }}
#ticker {{ position: absolute; bottom: 0; width: 100%; height: 108px; overflow: hidden;
  background: {_rgb(t.ticker_bg)}; color: {_rgb(t.ticker_text)}; font-size: 56px;
  line-height: 108px; white-space: nowrap; }}
#ticker span {{ display: inline-block; padding-left: 100%;
  animation: scroll 20s linear infinite;  /* about the kiosk's 4 em a second */ }}
@keyframes scroll {{ to {{ transform: translateX(-100%); }} }}
</style></head><body>
<header><span>{html.escape(UNIT)}</span><span id="clock"></span></header>
<main><h1>{html.escape(TITLE)}</h1><p>{html.escape(BODY)}</p></main>{band}
<script>
function tick() {{
  const now = new Date();
  document.getElementById("clock").textContent = now.toLocaleTimeString("vi-VN",
    {{hour: "2-digit", minute: "2-digit"}});
  setTimeout(tick, 60000 - now.getSeconds() * 1000 - now.getMilliseconds());
}}
tick();
document.fonts.ready.then(() => requestAnimationFrame(() => requestAnimationFrame(() =>
  navigator.sendBeacon("/painted", JSON.stringify(performance.timeOrigin + performance.now())))));
</script></body></html>
"""


class _PageHandler(SimpleHTTPRequestHandler):
    server: PageServer

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_POST(self) -> None:
        data = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path == "/painted":
            self.server.painted_ms = float(json.loads(data))
            self.server.painted.set()
        self.send_response(HTTPStatus.NO_CONTENT)
        self.end_headers()


class PageServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, folder: Path) -> None:
        self.painted = threading.Event()
        self.painted_ms = 0.0
        super().__init__(
            ("127.0.0.1", 0),
            lambda *a: _PageHandler(*a, directory=str(folder)),  # type: ignore[arg-type]
        )


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


def measure(
    work: Path, seconds: float, starts: int, ticker_seconds: float | None = None
) -> dict[str, float]:
    """Start to first full frame (median of `starts`), memory and CPU on the static slide,
    and CPU with the ticker; each run a fresh browser with an empty profile."""
    exe = chromium()
    if exe is None:
        raise SystemExit("chromium is not installed (Debian: apt install chromium)")
    folder = work / "page"
    folder.mkdir(parents=True, exist_ok=True)
    for font in ("NotoSans-Regular.ttf", "NotoSans-Bold.ttf"):
        shutil.copy(FONTS / font, folder / font)
    (folder / "static.html").write_text(slide_page(ticker=False), "utf-8")
    (folder / "ticker.html").write_text(slide_page(ticker=True), "utf-8")
    server = PageServer(folder)
    threading.Thread(target=server.serve_forever, args=(0.1,), daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    firsts = []
    out: dict[str, float] = {}
    try:
        for n in range(starts):
            with _Browser(exe, work / f"profile-{n}", url + "static.html", server) as b:
                firsts.append(b.first_frame_s)
                if n == 0:
                    time.sleep(2.0)  # past start-up
                    out.update(procstat.memory_mb(procstat.tree(b.proc.pid)))
                    out["idle_cpu_percent"] = round(b.cpu_percent(seconds), 3)
        if ticker_seconds:
            with _Browser(exe, work / "profile-ticker", url + "ticker.html", server) as b:
                time.sleep(2.0)
                out["ticker_cpu_percent"] = round(b.cpu_percent(ticker_seconds), 2)
    finally:
        server.shutdown()
        server.server_close()
    firsts.sort()
    out["start_to_first_frame_s"] = round(firsts[len(firsts) // 2], 3)
    return out


class _Browser:
    def __init__(self, exe: str, profile: Path, url: str, server: PageServer) -> None:
        self.args = [exe, *FLAGS, f"--user-data-dir={profile}", url]
        if procstat.is_root():
            self.args.insert(1, "--no-sandbox")  # Chromium refuses root with its sandbox
        self.server = server
        self.first_frame_s = 0.0

    def __enter__(self) -> _Browser:
        self.server.painted.clear()
        started = time.time()
        self.proc = subprocess.Popen(
            self.args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        if not self.server.painted.wait(60):
            self.__exit__()
            raise SystemExit("chromium did not paint the page within 60 s")
        self.first_frame_s = self.server.painted_ms / 1000 - started
        return self

    def cpu_percent(self, seconds: float) -> float:
        return procstat.cpu_percent(lambda: procstat.tree(self.proc.pid), seconds)

    def __exit__(self, *_exc: object) -> None:
        procstat.stop(self.proc)


def version() -> str | None:
    exe = chromium()
    if exe is None:
        return None
    answer = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30)
    return answer.stdout.strip() or None
