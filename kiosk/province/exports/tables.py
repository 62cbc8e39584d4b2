"""A CSV for the Department as the console writes it (Excel opens it as UTF-8: a BOM first),
whether it streams to the officer or is written to a file in the background, and the kinds
of CSV there are: each app says how its table is read from the parameters of its address."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, NamedTuple

from django.http import QueryDict
from django.utils.module_loading import import_string

LINES_A_CHUNK = 500


@dataclass
class Table:
    """What a CSV address asked for. rows is lazy: nothing is read until it is iterated, so
    `expected` (one COUNT) decides whether it streams or is made in the background."""

    header: list[str]
    rows: Iterable[list]
    filename: str
    expected: int = 0
    error: str | None = None  # the parameters were wrong: a 400 with this text


class Kind(NamedTuple):
    maker: str  # "module.function(user, query: QueryDict) -> Table"
    view: str  # the URL name of its CSV address (to ask for it again)


KINDS = {
    "reports": Kind("kiosk.province.bulletins.reports.report_table", "reports_csv"),
    "plays": Kind("kiosk.province.fleet.views.plays_table", "plays_csv"),
}


def table_of(kind: str, user: Any, query: QueryDict) -> Table:
    maker: Callable[[Any, QueryDict], Table] = import_string(KINDS[kind].maker)
    return maker(user, query)


def csv_chunks(header: list[str], rows: Iterable[list]) -> Iterator[str]:
    """The CSV's text a few hundred lines at a time; the caller made each text cell
    spreadsheet_safe."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    out.write("\ufeff")
    writer.writerow(header)
    for n, row in enumerate(rows, 1):
        writer.writerow(row)
        if n % LINES_A_CHUNK == 0:
            yield out.getvalue()
            out.seek(0)
            out.truncate()
    yield out.getvalue()
