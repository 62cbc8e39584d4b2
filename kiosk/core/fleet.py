"""The province's yearly report on its boards (SPEC 6): counts per area against the targets.

Pure: the inventory, the boards that answered, the targets and the day go in; the report
comes out. An area is a district, or the province for boards the inventory gives no
district. The targets count units (wards, towns, communes) with a board, as the plans word
them; the CSV's counts are of boards, as SPEC 6 words them. With one board a unit, as a
People's Committee has, the two agree.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import Any

from kiosk.core.config import COMMUNE_LEVEL, ConfigError
from kiosk.core.inventory import InventoryBoard, clean_text
from kiosk.core.textrules import spreadsheet_safe
from kiosk.core.vietnamese import sort_key

WARDS_TOWNS = ("phuong", "thi_tran")
COMMUNES = ("xa",)
BASES = ("installed", "online")
# SPEC 7.3: online while the last heartbeat is younger than this (three missed beats at the
# default 60 s, with margin)
ONLINE_WINDOW = timedelta(minutes=5)
DEFAULT_TITLE = "Kế hoạch 117/KH-UBND, chỉ tiêu năm 2024"
REFORM_TITLE = "Mỗi xã, phường có bảng tin điện tử công cộng (sau sắp xếp năm 2025)"
REPORT_COLUMNS = (
    "area",
    "wards_towns",
    "wards_towns_online",
    "communes",
    "communes_online",
    "meets_target",
    "province_code",
    "wards_towns_with_board",
    "wards_towns_needed",
    "wards_towns_total",
    "communes_with_board",
    "communes_needed",
    "communes_total",
    "other_boards",
    "other_online",
)


@dataclass(frozen=True)
class AreaTotals:
    """How many wards and towns, and communes, an area has: what percentages are of."""

    wards_towns: int | None = None
    communes: int | None = None


@dataclass(frozen=True)
class Targets:
    """The targets in force. The defaults are Plan 117/KH-UBND's for 2024 (the seeds)."""

    title: str = DEFAULT_TITLE
    basis: str = "installed"  # or "online": count only boards whose /health answered
    min_wards_towns: int = 1
    min_communes: int = 2
    wards_towns_percent: float = 0.0
    communes_percent: float = 0.0
    areas: Mapping[str, AreaTotals] = field(default_factory=dict)

    def overridden(self, **values: Any) -> Targets:
        """These targets with each value given (not None) in place, as flags do."""
        return replace(self, **{k: v for k, v in values.items() if v is not None})


def default_targets(boards: Iterable[InventoryBoard]) -> Targets:
    """The targets when the province gives none. An inventory that names districts is read
    by Plan 117/KH-UBND's 2024 rule per district (SPEC 6's default). One that names none is
    laid out as after the 2025 reform, which abolished districts: there the rule per
    district means nothing, and the default is the plans' own aim, a board at every
    commune's and ward's People's Committee: 100% of the communes and wards the inventory
    lists (installed or planned), until the province's targets file gives its real totals."""
    boards = list(boards)
    if any(b.district for b in boards if b.unit_kind in COMMUNE_LEVEL):
        return Targets()
    totals: dict[str, AreaTotals] = {}
    provinces = _province_labels(boards)
    for code, label in {area_of(b, provinces) for b in boards}:
        here = [b for b in boards if b.province_code == code]
        totals[label] = AreaTotals(_units(here, WARDS_TOWNS), _units(here, COMMUNES))
    return Targets(title=REFORM_TITLE, min_wards_towns=0, min_communes=0,
                   wards_towns_percent=100.0, communes_percent=100.0, areas=totals)  # fmt: skip


# The numbers a targets file may give, and their kind: whole units, or a percentage.
_NUMBERS: dict[str, type[int] | type[float]] = {
    "min_wards_towns": int,
    "min_communes": int,
    "wards_towns_percent": float,
    "communes_percent": float,
}


def _count(doc: dict[str, Any], key: str, where: str, problems: list[str], kind=int):
    """A whole number 0 or more, or (kind float) a percentage; None when not given."""
    value = doc.get(key)
    if value is None:
        return None
    allowed = (int, float) if kind is float else (int,)
    if isinstance(value, bool) or not isinstance(value, allowed):
        what = "a number" if kind is float else "a whole number"
        problems.append(f"{where}: {key}: must be {what}, got {value!r}")
    elif value < 0 or (kind is float and value > 100):
        limit = "0 to 100" if kind is float else "0 or more"
        problems.append(f"{where}: {key}: must be {limit}, got {value!r}")
    else:
        return kind(value)
    return None


def parse_targets(doc: dict[str, Any], where: str = "targets.toml") -> Targets:
    """Targets from a parsed TOML document, or ConfigError naming every problem."""
    problems: list[str] = []
    known = {"title", "basis", "areas", *_NUMBERS}
    problems += [f"{where}: {key}: unknown key" for key in doc if key not in known]
    values = {key: _count(doc, key, where, problems, kind) for key, kind in _NUMBERS.items()}
    title = doc.get("title", DEFAULT_TITLE)
    if not isinstance(title, str) or not title.strip():
        problems.append(f"{where}: title: must be a non-empty string")
    basis = doc.get("basis", "installed")
    if basis not in BASES:
        problems.append(f"{where}: basis: must be one of {', '.join(BASES)}, got {basis!r}")
    areas: dict[str, AreaTotals] = {}
    raw_areas = doc.get("areas", {})
    if not isinstance(raw_areas, dict):
        problems.append(f'{where}: areas: must be tables such as [areas."Sơn Dương"]')
        raw_areas = {}
    for name, totals in raw_areas.items():
        here = f'{where}: [areas."{name}"]'
        if not isinstance(totals, dict):
            problems.append(f"{here}: must be a table with wards_towns and communes")
            continue
        problems += [
            f"{here}: {key}: unknown key" for key in totals if key not in AreaTotals.__annotations__
        ]
        areas[clean_text(name)] = AreaTotals(
            _count(totals, "wards_towns", here, problems),
            _count(totals, "communes", here, problems),
        )
    if problems:
        raise ConfigError(problems)
    return Targets(title=title.strip(), basis=basis, areas=areas).overridden(**values)


@dataclass(frozen=True)
class Need:
    """One kind of unit in one area: how many have a board, against how many must."""

    have: int
    need: int
    total: int | None

    @property
    def met(self) -> bool:
        return self.have >= self.need

    @property
    def short(self) -> int:
        return max(0, self.need - self.have)


@dataclass(frozen=True)
class AreaReport:
    label: str
    province_code: str
    wards_towns: int
    wards_towns_online: int
    communes: int
    communes_online: int
    others: int
    others_online: int
    wards_towns_need: Need
    communes_need: Need
    offline: tuple[InventoryBoard, ...]

    @property
    def meets(self) -> bool:
        return self.wards_towns_need.met and self.communes_need.met


@dataclass(frozen=True)
class Report:
    as_of: date
    targets: Targets
    areas: tuple[AreaReport, ...]
    installed: int
    online: int
    planned: tuple[InventoryBoard, ...]  # in the inventory, installed after as_of
    outside: tuple[InventoryBoard, ...]  # district- or province-level boards of no area

    @property
    def meeting(self) -> int:
        return sum(1 for a in self.areas if a.meets)


def heartbeat_online(last_heartbeat_at: datetime | None, now: datetime) -> bool:
    return last_heartbeat_at is not None and now - last_heartbeat_at < ONLINE_WINDOW


def _province_labels(boards: Iterable[InventoryBoard]) -> dict[str, str]:
    labels: dict[str, str] = {}
    for board in boards:
        if board.province_name or board.province_code not in labels:
            labels[board.province_code] = board.province_name or f"Mã tỉnh {board.province_code}"
    return labels


def area_of(board: InventoryBoard, provinces: Mapping[str, str]) -> tuple[str, str]:
    """(province code, label): the district, or the province when none is given. Names
    repeat across provinces (Châu Thành), so with several provinces the label says which."""
    province = provinces[board.province_code]
    if board.district is None:
        return board.province_code, province
    label = board.district if len(provinces) == 1 else f"{board.district} ({province})"
    return board.province_code, label


def _need(
    units: int, minimum: int, percent: float, total: int | None, kind: str, area: str
) -> Need:
    need = minimum
    if percent > 0:
        if total is None:
            raise ValueError(f"the {percent:g}% target needs the number of {kind} in {area}")
        need = max(need, math.ceil(total * percent / 100 - 1e-9))
    if total is not None:
        if units > total:
            raise ValueError(
                f"{area} has boards in {units} {kind}, but the targets give it {total}"
            )
        need = min(need, total)  # "at least 1 ward" in an area with none is met
    return Need(units, need, total)


def _units(boards: Iterable[InventoryBoard], kinds: tuple[str, ...]) -> int:
    return len({(b.province_code, b.commune_code) for b in boards if b.unit_kind in kinds})


def build_report(
    boards: Collection[InventoryBoard], online: Collection[str], targets: Targets, as_of: date
) -> Report:
    """The report; ConfigError when the targets cannot be judged (a percentage of a total
    not given, or more units with a board than the targets say an area has)."""
    provinces = _province_labels(boards)
    installed = [b for b in boards if b.installed_on <= as_of]
    # An area is one where the inventory has a board of a ward, town or commune (installed
    # or planned), or one the targets name. District and province boards alone make none.
    areas = {area_of(b, provinces) for b in boards if b.unit_kind in COMMUNE_LEVEL}
    known = {label for _, label in areas}
    only_code = next(iter(provinces)) if len(provinces) == 1 else ""
    areas |= {(only_code, name) for name in targets.areas if name not in known}
    by_area: dict[tuple[str, str], list[InventoryBoard]] = {}
    for b in installed:
        by_area.setdefault(area_of(b, provinces), []).append(b)
    problems: list[str] = []
    reports = []
    for code, label in sorted(areas, key=lambda a: sort_key(a[1])):
        here = by_area.get((code, label), [])
        up = [b for b in here if b.device_id in online]
        counted = up if targets.basis == "online" else here
        totals = targets.areas.get(label, AreaTotals())
        try:
            wards = _need(
                _units(counted, WARDS_TOWNS),
                targets.min_wards_towns,
                targets.wards_towns_percent,
                totals.wards_towns,
                "wards and towns",
                label,
            )
            communes = _need(
                _units(counted, COMMUNES),
                targets.min_communes,
                targets.communes_percent,
                totals.communes,
                "communes",
                label,
            )
        except ValueError as exc:
            problems.append(f'targets: [areas."{label}"]: {exc}')
            continue
        counted_kinds = WARDS_TOWNS + COMMUNES
        reports.append(
            AreaReport(
                label=label,
                province_code=code,
                wards_towns=sum(b.unit_kind in WARDS_TOWNS for b in here),
                wards_towns_online=sum(b.unit_kind in WARDS_TOWNS for b in up),
                communes=sum(b.unit_kind in COMMUNES for b in here),
                communes_online=sum(b.unit_kind in COMMUNES for b in up),
                others=sum(b.unit_kind not in counted_kinds for b in here),
                others_online=sum(b.unit_kind not in counted_kinds for b in up),
                wards_towns_need=wards,
                communes_need=communes,
                offline=tuple(b for b in here if b.device_id not in online),
            )
        )
    if problems:
        raise ConfigError(problems)
    return Report(
        as_of=as_of,
        targets=targets,
        areas=tuple(reports),
        installed=len(installed),
        online=sum(1 for b in installed if b.device_id in online),
        planned=tuple(b for b in boards if b.installed_on > as_of),
        outside=tuple(b for key, group in by_area.items() if key not in areas for b in group),
    )


def report_csv(report: Report) -> str:
    """`report.csv`: one row an area, SPEC 6's columns first."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(REPORT_COLUMNS)
    for a in report.areas:
        w, c = a.wards_towns_need, a.communes_need
        writer.writerow(
            [
                spreadsheet_safe(a.label),
                a.wards_towns,
                a.wards_towns_online,
                a.communes,
                a.communes_online,
                "yes" if a.meets else "no",
                a.province_code,
                w.have,
                w.need,
                "" if w.total is None else w.total,
                c.have,
                c.need,
                "" if c.total is None else c.total,
                a.others,
                a.others_online,
            ]
        )
    return out.getvalue()
