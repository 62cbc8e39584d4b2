"""`kiosk status URL...`: the health of one or many boards as a table, for technicians.

Boards are asked at the same time (a bounded pool), each with a timeout, so one board that
does not answer costs seconds, not minutes.
"""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

import requests

from kiosk import __version__
from kiosk.core.errors import UsageError
from kiosk.core.httpbody import IDENTITY, BodyRefused, TooSlow, read_body
from kiosk.core.textrules import printable
from kiosk.core.timeutil import parse_rfc3339
from kiosk.core.vietnamese import PROBLEM_VI, STATUS_VI, answer_text, moment_text

TIMEOUT_S = 5.0
MAX_PARALLEL = 32
MAX_BYTES = 1 << 20  # a /health document is a few kB; more is not a kiosk
MAX_CELL = 120  # characters of one cell of the table
NOT_A_KIOSK = "not a kiosk /health document"
# The technician reads the tables (in Vietnamese, times in Vietnam's zone); --json keeps the
# boards' own documents and stable English names for scripts.
HEALTH_COLUMNS = ("trạng thái", "đang hiển thị", "sự cố", "đồng bộ gần nhất", "nhiệt độ",
                  "phiên bản")  # fmt: skip
VIETNAM = ZoneInfo("Asia/Ho_Chi_Minh")  # Vietnam has one zone: the boards' and the province's


@dataclass(frozen=True)
class Answer:
    url: str
    doc: dict[str, Any] | None
    error: str | None = None


def health_url(url: str) -> str:
    url = url.rstrip("/")
    if not url.startswith(("http://", "https://")):
        url = "http://" + url
    return url if url.endswith("/health") else url + "/health"


def ask(url: str, timeout: float = TIMEOUT_S) -> Answer:
    """One board's /health, in at most about `timeout` seconds whatever the board does."""
    deadline = time.monotonic() + timeout
    try:
        with requests.get(
            url,
            timeout=timeout,
            stream=True,
            headers={"User-Agent": f"kiosk-status/{__version__}", **IDENTITY},
        ) as answer:
            doc = json.loads(read_body(answer, MAX_BYTES, deadline))
    except requests.Timeout:
        return Answer(url, None, "no answer in time")
    except requests.ConnectionError:
        return Answer(url, None, "unreachable")
    except TooSlow:
        return Answer(url, None, "no answer in time")
    except BodyRefused:
        return Answer(url, None, NOT_A_KIOSK)
    except (requests.RequestException, ValueError, RecursionError):
        return Answer(url, None, NOT_A_KIOSK)
    if not health_shaped(doc):
        return Answer(url, None, NOT_A_KIOSK)
    return Answer(url, doc)


def ask_all(
    urls: list[str],
    timeout: float = TIMEOUT_S,
    parallel: int = MAX_PARALLEL,
    on_answer: Callable[[Answer], None] | None = None,
) -> list[Answer]:
    """Every board's answer, in the order given; at most `parallel` asked at once."""
    if not urls:
        return []
    with ThreadPoolExecutor(max_workers=max(1, min(parallel, len(urls)))) as pool:
        futures = [pool.submit(ask, url, timeout) for url in urls]
        for future in as_completed(futures):
            if on_answer is not None:
                on_answer(future.result())
        return [f.result() for f in futures]


_SECTIONS = ("device", "display", "sync", "content", "system", "heartbeat")


def health_shaped(doc: object) -> bool:
    """Whether a /health document has the shapes this tool reads (SPEC 3.2). One board's
    odd document (`"system": []`) makes that board "not a kiosk", never a crash of the
    report of the whole fleet."""
    if not isinstance(doc, dict) or doc.get("status") not in ("ok", "degraded", "failing"):
        return False
    if any(not isinstance(doc.get(key) or {}, dict) for key in _SECTIONS):
        return False
    return isinstance(doc.get("problems") or [], list)


def problem_codes(doc: dict[str, Any]) -> list[str]:
    problems = doc.get("problems") or []
    return sorted({str(p.get("code", "?")) for p in problems if isinstance(p, dict)})


def current_item(doc: dict[str, Any]) -> str | None:
    """What is on screen, as channel/id, from the /health document."""
    current = (doc.get("display") or {}).get("current_item")
    return f"{current.get('channel')}/{current.get('id')}" if isinstance(current, dict) else None


def local_moment(value: object, text=moment_text, none: str = "chưa có") -> str:
    """An RFC 3339 moment a board sent, in Vietnam's time as `text` writes it ("08:30 ngày
    23/11/2026" for a person); `none` for none; as it was when it is no moment."""
    if value in (None, ""):
        return none
    try:
        return text(parse_rfc3339(value).astimezone(VIETNAM))
    except ValueError:
        return str(value)


def health_fields(doc: dict[str, Any]) -> tuple[str, ...]:
    """HEALTH_COLUMNS of one /health document, as a technician reads them."""
    temp = (doc.get("system") or {}).get("cpu_temp_c")
    status = str(doc.get("status"))
    return (
        STATUS_VI.get(status, status),
        current_item(doc) or "-",
        ", ".join(PROBLEM_VI.get(code, code) for code in problem_codes(doc)) or "-",
        local_moment((doc.get("sync") or {}).get("last_success_at")),
        f"{temp:.0f} °C" if isinstance(temp, int | float) else "-",
        str(doc.get("version", "?")),
    )


def note_fields(status: str, problems: str = "") -> tuple[str, ...]:
    """HEALTH_COLUMNS for a board whose state we do not have: why, and nothing else."""
    fields = dict.fromkeys(HEALTH_COLUMNS, "")
    fields[HEALTH_COLUMNS[0]] = answer_text(status)
    fields[HEALTH_COLUMNS[2]] = answer_text(problems)
    return tuple(fields.values())


def row(answer: Answer) -> tuple[str, ...]:
    doc = answer.doc
    if doc is None:
        return (answer.url, *note_fields(answer.error or "unreachable"))
    device = doc.get("device") or {}
    return (f"{device.get('id', '?')} ({device.get('unit_name', '?')})", *health_fields(doc))


def table(columns: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """A plain table that survives a pipe, a log and a narrow terminal."""
    # what a board sent is shown, not obeyed: no escape sequence reaches the terminal
    rows = [tuple(printable(cell, MAX_CELL) for cell in r) for r in rows]
    widths = [max(len(r[i]) for r in [columns, *rows]) for i in range(len(columns))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in [columns, *rows]
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def status_command(args: argparse.Namespace) -> int:
    if not args.urls:
        raise UsageError("give at least one board's address, such as http://10.0.0.5:8080")
    answers = ask_all([health_url(u) for u in args.urls])
    if args.json:
        print(
            json.dumps(
                [{"url": a.url, "health": a.doc, "error": a.error} for a in answers],
                ensure_ascii=False,
                indent=1,
            )
        )
    else:
        print(table(("bảng tin", *HEALTH_COLUMNS), [row(a) for a in answers]))
    healthy = all(a.doc is not None and a.doc.get("status") != "failing" for a in answers)
    return 0 if healthy else 1
