"""Large CSVs made in the background, each by a thread of the worker that was asked, into a
file of the exports folder (never the public site); bounded in number, in age and in how
many are made at once. A thread that fails says so on the export's page and in the log; a
worker recycled or killed mid-way leaves an export that stops moving, which the minute's
housekeeping calls failed (prune)."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.http import QueryDict
from django.utils import timezone

from kiosk.province.exports.models import Export
from kiosk.province.exports.tables import LINES_A_CHUNK, Table, csv_chunks, table_of

log = logging.getLogger(__name__)

DIRECT_ROWS = 10_000  # up to this many, a CSV streams at once (about 0.3 s, docs)
MAKING_AT_ONCE = 2  # exports made at the same time, over all workers (2 cores)
REUSE_FOR = timedelta(minutes=10)  # the same CSV asked again within this is the same file
KEEP_FOR = timedelta(days=1)
KEPT_AT_MOST = 100
STALLED_AFTER = timedelta(minutes=5)  # making, with no line written for this long
PROGRESS_EVERY = 20 * LINES_A_CHUNK  # lines between two notes of progress
STALLED_TEXT = "Việc chuẩn bị bị gián đoạn (máy chủ khởi động lại?). Hãy yêu cầu lại."
FAILED_TEXT = "Không tạo được tệp do lỗi máy chủ; lỗi đã được ghi vào nhật ký."


def folder() -> Path:
    return Path(settings.KIOSK_EXPORTS)


def file_of(export: Export) -> Path:
    return folder() / f"{export.pk.hex}.csv"


def partial_of(export: Export) -> Path:
    """Where the file is written until it is whole."""
    return file_of(export).with_suffix(".part")


class Busy(Exception):
    """MAKING_AT_ONCE exports are being made: ask again in a few minutes."""


def start(user: Any, kind: str, query: QueryDict, table: Table, now: datetime) -> Export:
    """The export of this CSV: the same one if this officer asked for it a moment ago, else
    a new one whose thread is started. Raises Busy."""
    asked = query.urlencode()
    recent = (
        Export.objects.filter(owner=user, kind=kind, query=asked, asked_at__gte=now - REUSE_FOR)
        .exclude(state=Export.State.FAILED)
        .order_by("-asked_at")
        .first()
    )
    if recent:
        return recent
    with transaction.atomic():  # counted and created as one: never more than MAKING_AT_ONCE
        if connection.vendor == "postgresql":  # SQLite's IMMEDIATE transactions serialize
            with connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(28)")
        if Export.objects.filter(state=Export.State.MAKING).count() >= MAKING_AT_ONCE:
            raise Busy
        export = Export.objects.create(owner=user, kind=kind, query=asked,
                                       filename=table.filename, expected=table.expected,
                                       asked_at=now, touched_at=now)  # fmt: skip
        done = Export.objects.exclude(state=Export.State.MAKING).order_by("-asked_at")
        for old in done[KEPT_AT_MOST:]:
            forget(old)
        thread = threading.Thread(target=make, args=(export.pk,), daemon=True,
                                  name=f"export-{export.pk.hex[:8]}")  # fmt: skip
        transaction.on_commit(thread.start)  # the thread reads the committed export
    return export


class _Progress:
    """Counts the lines as they pass and notes them on the export now and then, so its page
    moves and housekeeping can tell a live export from a stalled one."""

    def __init__(self, pk: Any) -> None:
        self.pk, self.lines = pk, 0

    def count(self, rows: Iterable[list]) -> Iterator[list]:
        for row in rows:
            self.lines += 1
            if self.lines % PROGRESS_EVERY == 0:
                Export.objects.filter(pk=self.pk).update(rows=self.lines,
                                                         touched_at=timezone.now())  # fmt: skip
            yield row


def make(pk: Any) -> None:
    """The thread: write the CSV to a temporary file, then rename it into place."""
    try:
        export = Export.objects.select_related("owner").get(pk=pk)
        table = table_of(export.kind, export.owner, QueryDict(export.query))
        final = file_of(export)
        final.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        partial = partial_of(export)
        progress = _Progress(pk)
        flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC
        with os.fdopen(os.open(partial, flags, 0o600), "w", encoding="utf-8") as out:
            for text in csv_chunks(table.header, progress.count(table.rows)):
                out.write(text)
        os.replace(partial, final)
        done = timezone.now()
        Export.objects.filter(pk=pk).update(state=Export.State.READY, rows=progress.lines,
                                            size=final.stat().st_size, finished_at=done,
                                            touched_at=done)  # fmt: skip
        log.info("export %s (%s) made: %d lines", pk, export.kind, progress.lines)
    except Exception:
        log.exception("export %s failed", pk)
        Export.objects.filter(pk=pk).update(state=Export.State.FAILED, problem=FAILED_TEXT,
                                            finished_at=timezone.now())  # fmt: skip
    finally:
        connection.close()  # this thread's own connection


def forget(export: Export) -> None:
    for path in (file_of(export), partial_of(export)):
        path.unlink(missing_ok=True)
    export.delete()


def prune(now: datetime) -> int:
    """Each minute (housekeeping): exports older than KEEP_FOR are deleted with their files;
    one that stopped moving is failed; a file no export names (a crash between the two) is
    removed. Returns how many exports were deleted."""
    Export.objects.filter(state=Export.State.MAKING, touched_at__lt=now - STALLED_AFTER).update(
        state=Export.State.FAILED, problem=STALLED_TEXT, finished_at=now
    )
    old = list(Export.objects.filter(asked_at__lt=now - KEEP_FOR))
    for export in old:
        forget(export)
    if folder().is_dir():
        cutoff = (now - STALLED_AFTER).timestamp()  # not one whose export is being created
        named = {e.hex for e in Export.objects.values_list("pk", flat=True)}
        for path in folder().iterdir():
            try:
                if path.name.split(".")[0] not in named and path.stat().st_mtime < cutoff:
                    path.unlink()
            except OSError as exc:
                log.warning("housekeeping: %s not removed: %s", path, exc)
    return len(old)
