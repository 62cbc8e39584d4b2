"""`kiosk status URL...`: the health of one or many boards as a table, for technicians.

Boards are asked at the same time (a bounded pool), each with a timeout, so one board that
does not answer costs seconds, not minutes.
"""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import requests

from kiosk import __version__
from kiosk.cli import UsageError

TIMEOUTS = (3.0, 5.0)
MAX_PARALLEL = 32
COLUMNS = ("board", "status", "showing", "problems", "last sync", "temp", "version")


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


def ask(url: str) -> Answer:
    try:
        with requests.get(
            url, timeout=TIMEOUTS, headers={"User-Agent": f"kiosk-status/{__version__}"}
        ) as answer:
            doc = answer.json()
        if not isinstance(doc, dict) or "status" not in doc:
            return Answer(url, None, "not a kiosk /health document")
        return Answer(url, doc)
    except requests.Timeout:
        return Answer(url, None, "no answer in time")
    except requests.ConnectionError:
        return Answer(url, None, "unreachable")
    except (requests.RequestException, ValueError):
        return Answer(url, None, "not a kiosk /health document")


def ask_all(urls: list[str]) -> list[Answer]:
    with ThreadPoolExecutor(max_workers=min(MAX_PARALLEL, len(urls))) as pool:
        return list(pool.map(ask, urls))


def row(answer: Answer) -> tuple[str, ...]:
    doc = answer.doc
    if doc is None:
        return (answer.url, answer.error or "unreachable", "", "", "", "", "")
    device = doc.get("device") or {}
    current = (doc.get("display") or {}).get("current_item")
    temp = (doc.get("system") or {}).get("cpu_temp_c")
    return (
        f"{device.get('id', '?')} ({device.get('unit_name', '?')})",
        str(doc.get("status")),
        f"{current['channel']}/{current['id']}" if current else "-",
        ", ".join(sorted({p.get("code", "?") for p in doc.get("problems", [])})) or "-",
        str((doc.get("sync") or {}).get("last_success_at") or "never"),
        f"{temp:.0f} °C" if isinstance(temp, int | float) else "-",
        str(doc.get("version", "?")),
    )


def table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in [COLUMNS, *rows]) for i in range(len(COLUMNS))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)).rstrip()
        for r in [COLUMNS, *rows]
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
        print(table([row(a) for a in answers]))
    healthy = all(a.doc is not None and a.doc.get("status") != "failing" for a in answers)
    return 0 if healthy else 1
