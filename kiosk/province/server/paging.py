"""Long lists in pages: every list of the console holds at 10,000 boards and a year of
bulletins by showing PAGE rows at a time, with the filters kept from page to page."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from django.core.paginator import Page, Paginator
from django.http import HttpRequest

PAGE = 50
T = TypeVar("T")


def paged(request: HttpRequest, rows: Any, per_page: int = PAGE) -> dict[str, Any]:
    """{"page": this page of rows, "query": the request's other parameters, urlencoded, for
    the pager's links (templates/_pager.html)}. A page past the end is the last one."""
    page: Page = Paginator(rows, per_page).get_page(request.GET.get("page"))
    others = request.GET.copy()
    others.pop("page", None)
    return {"page": page, "query": others.urlencode()}


def batches(rows: Iterable[T], size: int) -> Iterator[list[T]]:
    """rows in lists of size (the last shorter): a CSV of a year reads its figures a
    batch at a time (itertools.batched, before Python 3.12)."""
    batch: list[T] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch
