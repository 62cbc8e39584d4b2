"""The province's inventory of boards, `INVENTORY.csv` (SPEC 6), read and validated.

Pure: text in, boards or every problem out. Each problem names the file, the row (the
file's line, the header being row 1), the column and what is wrong, so a department fixes
its spreadsheet in one pass rather than one error per run.
"""

from __future__ import annotations

import csv
import re
import unicodedata
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit

from kiosk.core.config import COMMUNE_LEVEL, DEVICE_ID, UNIT_KINDS, ConfigError

COLUMNS = (
    "device_id",
    "health_url",
    "unit_name",
    "unit_kind",
    "province_code",
    "commune_code",
    "district",
    "installed_on",
)
# Beyond these, any column is allowed (SPEC 6 says "at least") and carried along unread,
# except province_name, which names the province in the report when no district is given.
MAX_PROBLEMS = 50
_DMY = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})\Z")
_YMD = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})\Z")
_SPACES = re.compile(r"\s+")


class InventoryError(ConfigError):
    """An inventory that cannot be used (problem code inventory_invalid): one line a problem."""


@dataclass(frozen=True)
class InventoryBoard:
    device_id: str
    health_url: str
    unit_name: str
    unit_kind: str
    province_code: str
    commune_code: str | None
    district: str | None
    installed_on: date
    province_name: str | None = None

    def labels(self) -> dict[str, str]:
        """Who and where, as text (empty when not given): the columns of every output."""
        return {
            "device_id": self.device_id,
            "unit_name": self.unit_name,
            "unit_kind": self.unit_kind,
            "province_code": self.province_code,
            "commune_code": self.commune_code or "",
            "district": self.district or "",
        }


def clean_text(value: str) -> str:
    """NFC with runs of spaces made one: "Sơn Dương" typed in two tools is one district."""
    return _SPACES.sub(" ", unicodedata.normalize("NFC", value)).strip()


def fold(value: str) -> str:
    """Without marks, lower case: "Xã" typed for the column's xa, to suggest what was meant."""
    marks = unicodedata.normalize("NFD", value.replace("Đ", "D").replace("đ", "d"))
    return "".join(c for c in marks if not unicodedata.combining(c)).lower()


def parse_date(value: str) -> date:
    """ISO (2024-04-16) or the Vietnamese day-first form (16/04/2024) a spreadsheet writes."""
    try:
        if found := _DMY.match(value):
            day, month, year = (int(g) for g in found.groups())
            return date(year, month, day)
        if found := _YMD.match(value):
            return date(*(int(g) for g in found.groups()))
    except ValueError:
        pass
    raise ValueError(f"{value!r} is not a date such as 2024-04-16 or 16/04/2024")


def normal_health_url(value: str) -> str:
    """The board's /health address; a bare http://host:port gets /health appended."""
    parts = urlsplit(value)
    if parts.username or parts.password:  # checked first: the value is not repeated
        raise ValueError("has a user name or password; those do not belong in the inventory")
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{value!r} is not an http:// or https:// address")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise ValueError(f"{value!r} has a port that is not a number") from None
    if parts.query or parts.fragment:
        raise ValueError(f"{value!r} has a query or fragment; give the board's /health address")
    path = parts.path.rstrip("/")
    if not path.endswith("/health"):
        path += "/health"
    return f"{parts.scheme}://{parts.netloc}{path}"


def _delimiter(header: str) -> str:
    """Spreadsheets set to Vietnamese write ';' between cells (',' is their decimal mark)."""
    return ";" if header.count(";") > header.count(",") else ","


class _Row:
    """One row's cells, collecting what is wrong with them."""

    def __init__(self, cells: dict[str, str], where: str, problems: list[str]) -> None:
        self.cells, self.where, self.problems = cells, where, problems

    def get(self, column: str, required: bool = True) -> str:
        value = clean_text(self.cells.get(column) or "")
        if required and not value:
            self.problem(column, "is empty")
        return value

    def problem(self, column: str, what: str) -> None:
        self.problems.append(f"{self.where}, column {column}: {what}")


def _board(row: _Row) -> InventoryBoard | None:
    found = len(row.problems)
    device_id = row.get("device_id")
    if device_id and not DEVICE_ID.match(device_id):
        row.problem("device_id", f"{device_id!r} is not a device id like 08-02263-01")
    health_url = row.get("health_url")
    if health_url:
        try:
            health_url = normal_health_url(health_url)
        except ValueError as exc:
            row.problem("health_url", str(exc))
    unit_name = row.get("unit_name")
    unit_kind = row.get("unit_kind")
    if unit_kind and unit_kind not in UNIT_KINDS:
        guess = fold(unit_kind).replace(" ", "_")  # "thị trấn" for thi_tran
        near = f" (did you mean {guess!r}?)" if guess in UNIT_KINDS else ""
        row.problem("unit_kind", f"{unit_kind!r} is not one of {', '.join(UNIT_KINDS)}{near}")
    province_code = row.get("province_code")
    if province_code and not re.fullmatch(r"\d{2}", province_code):
        row.problem("province_code", f"{province_code!r} is not 2 digits, such as 08")
    commune_code = row.get("commune_code", required=unit_kind in COMMUNE_LEVEL)
    if commune_code and not re.fullmatch(r"\d{5}", commune_code):
        row.problem("commune_code", f"{commune_code!r} is not 5 digits, such as 02263")
    installed = row.get("installed_on")
    installed_on = None
    if installed:
        try:
            installed_on = parse_date(installed)
        except ValueError as exc:
            row.problem("installed_on", str(exc))
    if len(row.problems) > found or installed_on is None:
        return None
    return InventoryBoard(
        device_id=device_id,
        health_url=health_url,
        unit_name=unit_name,
        unit_kind=unit_kind,
        province_code=province_code,
        commune_code=commune_code or None,
        district=row.get("district", required=False) or None,
        installed_on=installed_on,
        province_name=row.get("province_name", required=False) or None,
    )


def _header_problems(fields: list[str], where: str) -> list[str]:
    problems = []
    missing = [c for c in COLUMNS if c not in fields]
    if missing:
        problems.append(
            f"{where}: row 1 (the header): missing column(s) {', '.join(missing)}; "
            f"the header needs {','.join(COLUMNS)}"
        )
    doubled = sorted({c for c in fields if c and fields.count(c) > 1})
    if doubled:
        problems.append(f"{where}: row 1 (the header): column(s) {', '.join(doubled)} twice")
    return problems


def _unique(boards: list[tuple[int, InventoryBoard]], where: str, problems: list[str]) -> None:
    for column in ("device_id", "health_url"):
        first: dict[str, int] = {}
        for row, board in boards:
            value = getattr(board, column)
            if value in first:
                problems.append(
                    f"{where}: row {row}, column {column}: {value!r} is already on "
                    f"row {first[value]}"
                )
            else:
                first[value] = row


def _row_of(problem: str) -> int:
    found = re.search(r": row (\d+)", problem)
    return int(found.group(1)) if found else 0


def parse_inventory(text: str, where: str = "INVENTORY.csv") -> list[InventoryBoard]:
    """The boards of the inventory, or InventoryError naming every problem."""
    text = text.removeprefix("\ufeff")  # the byte-order mark of a spreadsheet's "UTF-8 CSV"
    lines = text.splitlines(keepends=True)
    if not lines or not lines[0].strip():
        raise InventoryError([f"{where}: is empty; the first row names the columns"])
    reader = csv.reader(lines, delimiter=_delimiter(lines[0]), strict=True)
    fields = [clean_text(c).lower() for c in next(reader)]
    problems = _header_problems(fields, where)
    if problems:  # the rows cannot be read against a header that is wrong
        raise InventoryError(problems)
    found: list[tuple[int, InventoryBoard]] = []
    row = reader.line_num + 1
    try:
        for cells in reader:
            number, row = row, reader.line_num + 1
            here = f"{where}: row {number}"
            if not any(c.strip() for c in cells):
                continue  # a blank line a spreadsheet left at the end
            if len(cells) != len(fields):
                problems.append(f"{here}: has {len(cells)} cells, the header has {len(fields)}")
            else:
                board = _board(_Row(dict(zip(fields, cells, strict=True)), here, problems))
                if board is not None:
                    found.append((number, board))
    except csv.Error as exc:
        problems.append(f"{where}: row {row}: not valid CSV: {exc}")
    _unique(found, where, problems)
    if not problems and not found:
        problems.append(f"{where}: has a header but no boards")
    if problems:
        problems.sort(key=_row_of)  # in the file's order, as someone fixing it reads
        more = len(problems) - MAX_PROBLEMS
        shown = problems[:MAX_PROBLEMS] + ([f"{where}: ... and {more} more"] if more > 0 else [])
        raise InventoryError(shown)
    return [board for _, board in found]


def load_inventory(path: Path) -> list[InventoryBoard]:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise InventoryError([f"{path}: cannot be read: {exc.strerror or exc}"]) from None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        row = data.count(b"\n", 0, exc.start) + 1
        raise InventoryError(
            [f'{path}: row {row}: is not UTF-8 text; save the file as "CSV UTF-8"']
        ) from None
    return parse_inventory(text, str(path))
