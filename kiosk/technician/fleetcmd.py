"""`kiosk fleet status|report|prometheus INVENTORY.csv`: every board of a province at once.

The boards are asked concurrently (a bounded pool, each board within a timeout, so one
that hangs costs seconds), with a progress bar on a terminal. Every file is written whole
or not at all (Prometheus reads its targets file whenever it changes).
"""

from __future__ import annotations

import argparse
import csv
import functools
import io
import json
import sys
import tomllib
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from kiosk.core import tomlsafe
from kiosk.core.config import ConfigError
from kiosk.core.errors import UsageError
from kiosk.core.fleet import Targets, build_report, default_targets, parse_targets, report_csv
from kiosk.core.fsutil import atomic_write
from kiosk.core.inventory import InventoryBoard, load_inventory, parse_date
from kiosk.core.textrules import spreadsheet_safe
from kiosk.core.vietnamese import (
    ANOTHER_BOARD,
    ANSWER_VI,
    PROBLEM_VI,
    STATUS_VI,
    answer_text,
    spreadsheet_text,
)
from kiosk.technician.fleethtml import render_report
from kiosk.technician.fleetserver import ServerError, heard_boards, read_api_token
from kiosk.technician.statuscmd import (
    HEALTH_COLUMNS,
    VIETNAM,
    Answer,
    ask_all,
    current_item,
    health_fields,
    local_moment,
    note_fields,
    problem_codes,
    table,
)

STATUS_COLUMNS = ("bảng tin", "đơn vị", "địa bàn", *HEALTH_COLUMNS)
STATUS_CSV = (
    "device_id",
    "unit_name",
    "unit_kind",
    "province_code",
    "commune_code",
    "district",
    "health_url",
    "online",
    "status",
    "problems",
    "current_item",
    "last_sync",
    "cpu_temp_c",
    "version",
    "error",
    "via",
)
# status.csv is opened in a spreadsheet by people: its header row in Vietnamese (status.json
# keeps STATUS_CSV's names for scripts)
STATUS_CSV_VI = (
    "Mã thiết bị", "Đơn vị", "Loại đơn vị", "Mã tỉnh", "Mã xã", "Địa bàn", "Địa chỉ /health",
    "Trả lời", "Trạng thái", "Sự cố", "Đang hiển thị", "Đồng bộ gần nhất", "Nhiệt độ (°C)",
    "Phiên bản", "Lỗi", "Nguồn số liệu",
)  # fmt: skip


@dataclass(frozen=True)
class Check:
    """One board of the inventory and what its /health said."""

    board: InventoryBoard
    answer: Answer
    via: str = "health"  # or "heartbeat": the province server's copy (--server)

    @property
    def error(self) -> str | None:
        """Why the board does not count as online, or None when it answered as itself."""
        if self.answer.doc is None:
            return self.answer.error or "unreachable"
        device = self.answer.doc.get("device")
        answered_as = device.get("id") if isinstance(device, dict) else None
        if not isinstance(answered_as, str):
            return "answers without a device id"
        if answered_as != self.board.device_id:
            return ANOTHER_BOARD + answered_as  # an address handed on
        return None

    @property
    def online(self) -> bool:
        return self.error is None


def _progress(total: int) -> tuple[Callable[[Answer], None] | None, Callable[[], None]]:
    """A progress bar on stderr when it is a terminal; nothing in a pipe or a log."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    console = Console(stderr=True)
    if not console.is_terminal:
        return None, lambda: None
    bar = Progress(
        "asking boards", BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
        console=console, transient=True,
    )  # fmt: skip
    task = bar.add_task("boards", total=total)
    bar.start()
    return (lambda _answer: bar.advance(task)), bar.stop


def poll(boards: list[InventoryBoard], args: argparse.Namespace) -> list[Check]:
    """Every board's state: from the province server's last heartbeat when it counts the
    board online (--server), else by asking the board's /health."""
    heard: dict[str, dict[str, Any]] = {}
    if bool(args.server) != bool(args.api_token_file):
        raise UsageError("--server and --api-token-file go together")
    if args.server:
        token = read_api_token(Path(args.api_token_file))
        heard = heard_boards(args.server, token, args.timeout)
    asked = [b for b in boards if b.device_id not in heard]
    on_answer, done = _progress(len(asked))
    try:
        answers = ask_all(
            [b.health_url for b in asked], args.timeout, args.parallel, on_answer=on_answer
        )
    finally:
        done()
    by_id = {b.device_id: a for b, a in zip(asked, answers, strict=True)}
    return [
        Check(b, Answer(args.server, heard[b.device_id]), "heartbeat")
        if b.device_id in heard
        else Check(b, by_id[b.device_id])
        for b in boards
    ]


def _status_row(check: Check) -> tuple[str, ...]:
    b = check.board
    head = (b.device_id, b.unit_name, b.district or "-")
    if check.answer.doc is None:
        return (*head, *note_fields(check.error or ""))
    if not check.online:  # another board's state is not this board's
        return (*head, *note_fields("wrong board", check.error or ""))
    return (*head, *health_fields(check.answer.doc))


def summary(checks: list[Check]) -> str:
    """ "12 bảng tin: 6 bình thường, 1 có vấn đề, 1 hỏng, 4 không trả lời"."""
    counts = Counter(
        str(c.answer.doc.get("status")) if c.online and c.answer.doc else "not answering"
        for c in checks
    )
    order = ("ok", "degraded", "failing", "not answering")
    words = {**STATUS_VI, **ANSWER_VI}
    parts = [f"{counts[k]} {words[k].lower()}" for k in order if counts[k]]
    parts += [f"{n} {k}" for k, n in sorted(counts.items()) if k not in order]
    pushed = sum(c.via == "heartbeat" for c in checks)
    tail = f" ({pushed} theo báo cáo gửi về máy chủ tỉnh)" if pushed else ""
    return f"{len(checks)} bảng tin: {', '.join(parts)}{tail}"


def _csv_row(check: Check) -> dict[str, Any]:
    """One row of status.csv, each cell safe to open in a spreadsheet."""
    return {key: spreadsheet_safe(value) for key, value in _csv_fields(check).items()}


def _csv_fields(check: Check) -> dict[str, Any]:
    b = check.board
    doc = (check.answer.doc if check.online else None) or {}
    return {
        **b.labels(),
        "health_url": b.health_url,
        "online": "có" if check.online else "không",
        "status": STATUS_VI.get(str(doc.get("status")), doc.get("status", "")),
        "problems": ", ".join(PROBLEM_VI.get(code, code) for code in problem_codes(doc)),
        "current_item": current_item(doc) or "",
        "last_sync": local_moment(
            (doc.get("sync") or {}).get("last_success_at"), spreadsheet_text, none=""
        ),
        "cpu_temp_c": (doc.get("system") or {}).get("cpu_temp_c", ""),
        "version": doc.get("version", ""),
        "error": answer_text(check.error) if check.error else "",
        "via": VIA_VI.get(check.via, check.via) if check.online else "",
    }


VIA_VI = {"health": "hỏi bảng tin", "heartbeat": "máy chủ tỉnh"}


def _board_json(check: Check) -> dict[str, Any]:
    b = check.board
    return {
        **{key: value or None for key, value in b.labels().items()},  # null, not ""
        "installed_on": b.installed_on.isoformat(),
        "health_url": b.health_url,
        "online": check.online,
        "via": check.via if check.online else None,
        "error": check.error,
        "health": check.answer.doc,
    }


def write_status(out: Path, checks: list[Check], polled_at: datetime, inventory: str) -> None:
    text = io.StringIO()
    writer = csv.DictWriter(text, STATUS_CSV, lineterminator="\n")
    csv.writer(text, lineterminator="\n").writerow(STATUS_CSV_VI)
    writer.writerows(_csv_row(c) for c in checks)
    _write(out / "status.csv", text.getvalue())
    doc = {
        "polled_at": polled_at.isoformat(timespec="seconds"),
        "inventory": inventory,
        "boards": [_board_json(c) for c in checks],
    }
    _write(out / "status.json", json.dumps(doc, ensure_ascii=False, indent=1))


def _write(path: Path, text: str) -> None:
    try:
        atomic_write(path, text.encode())
    except OSError as exc:  # a full disk, a folder not ours
        raise UsageError(f"{path}: cannot be written: {exc.strerror or exc}") from None


def _out_dir(value: str) -> Path:
    out = Path(value)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {value}: exists and is not a folder")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"--out {value}: cannot make the folder: {exc.strerror}") from None
    return out


def _server_failure_is_exit_1(command: Callable[[argparse.Namespace], int]):
    """A province server that could not be asked (--server) fails the work: exit 1."""

    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except ServerError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 1

    return run


@_server_failure_is_exit_1
def status_command(args: argparse.Namespace) -> int:
    boards = load_inventory(Path(args.inventory))
    out = _out_dir(args.out) if args.out else None
    polled_at = datetime.now().astimezone()
    checks = poll(boards, args)
    print(table(STATUS_COLUMNS, [_status_row(c) for c in checks]))
    print(summary(checks))
    if out is not None:
        write_status(out, checks, polled_at, args.inventory)
        print(f"Đã ghi {out / 'status.csv'} và {out / 'status.json'}")
    fine = all(c.online and c.answer.doc.get("status") != "failing" for c in checks)
    return 0 if fine else 1


def load_targets(args: argparse.Namespace, boards: list[InventoryBoard]) -> Targets:
    targets = default_targets(boards)
    if args.targets:
        path = Path(args.targets)
        try:
            targets = parse_targets(tomlsafe.loads(path.read_text("utf-8")), str(path))
        except OSError as exc:
            raise UsageError(f"{path}: cannot be read: {exc.strerror}") from None
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError([f"{path}: not valid TOML: {exc}"]) from None
    return targets.overridden(
        min_wards_towns=args.min_wards_towns,
        min_communes=args.min_communes,
        wards_towns_percent=args.wards_towns_percent,
        communes_percent=args.communes_percent,
        basis=args.basis,
    )


@_server_failure_is_exit_1
def report_command(args: argparse.Namespace) -> int:
    boards = load_inventory(Path(args.inventory))
    targets = load_targets(args, boards)
    try:
        as_of = parse_date(args.as_of) if args.as_of else datetime.now(VIETNAM).date()
    except ValueError as exc:
        raise UsageError(f"--as-of: {exc}") from None
    out = _out_dir(args.out)
    build_report(boards, set(), targets, as_of)  # bad targets stop here, before polling
    polled_at = datetime.now(VIETNAM)
    checks = poll(boards, args)
    report = build_report(boards, {c.board.device_id for c in checks if c.online}, targets, as_of)
    _write(out / "report.csv", report_csv(report))
    _write(out / "report.html", render_report(report, polled_at, Path(args.inventory).name))
    print(
        f"{report.meeting}/{len(report.areas)} khu vực đạt chỉ tiêu; "
        f"{report.online}/{report.installed} bảng tin đã lắp đặt trả lời. "
        f"Đã ghi {out / 'report.csv'} và {out / 'report.html'}"
    )
    return 0


def file_sd(boards: list[InventoryBoard]) -> list[dict[str, Any]]:
    """Prometheus file_sd target groups: one a board, labelled from the inventory, scraping
    /metrics beside the inventory's /health (behind a proxy path too)."""
    groups = []
    for b in boards:
        url = urlsplit(b.health_url)
        labels = {
            "__scheme__": url.scheme,
            "__metrics_path__": url.path.removesuffix("/health") + "/metrics",
            **b.labels(),
        }
        groups.append({"targets": [url.netloc], "labels": {k: v for k, v in labels.items() if v}})
    return groups


def prometheus_command(args: argparse.Namespace) -> int:
    boards = load_inventory(Path(args.inventory))
    text = json.dumps(file_sd(boards), ensure_ascii=False, indent=1) + "\n"
    if args.out:
        _write(Path(args.out), text)
        print(f"wrote {len(boards)} targets to {args.out}", file=sys.stderr)
    else:
        sys.stdout.write(text)
    return 0
