"""A CSV address's answer (the CSV itself, or the page of the export making it) and the
export's page and file, for the officer who asked."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET

from kiosk.province.exports import making
from kiosk.province.exports.models import Export
from kiosk.province.exports.tables import KINDS, csv_chunks, table_of

BUSY_TEXT = "Máy chủ đang chuẩn bị các tệp lớn khác. Hãy thử lại sau vài phút."


def answer(request: HttpRequest, kind: str) -> HttpResponse:
    """A CSV of up to DIRECT_ROWS bulletins or items streams at once; a larger one is made
    in the background and the officer is sent to its page."""
    table = table_of(kind, request.user, request.GET)
    if table.error:
        return HttpResponse(table.error, status=400)
    if table.expected <= making.DIRECT_ROWS:
        response = StreamingHttpResponse(csv_chunks(table.header, table.rows),
                                         content_type="text/csv; charset=utf-8")  # fmt: skip
        response["Content-Disposition"] = f'attachment; filename="{table.filename}"'
        return response
    try:
        export = making.start(request.user, kind, request.GET, table, timezone.now())
    except making.Busy:
        return render(request, "exports/busy.html", {"text": BUSY_TEXT}, status=503)
    return redirect("export", export.pk)


def _own(request: HttpRequest, pk: str) -> Export:
    return get_object_or_404(Export, pk=pk, owner=request.user)


@require_GET
@login_required
def export_page(request: HttpRequest, pk: str) -> HttpResponse:
    export = _own(request, pk)
    return render(request, "exports/export.html", {"e": export, "again": _address(export)})


@require_GET
@login_required
def export_file(request: HttpRequest, pk: str) -> FileResponse:
    export = _own(request, pk)
    path = making.file_of(export)
    if export.state != Export.State.READY or not path.is_file():
        raise Http404
    return FileResponse(path.open("rb"), as_attachment=True, filename=export.filename,
                        content_type="text/csv; charset=utf-8")  # fmt: skip


def _address(export: Export) -> str:
    """Where to ask for it again (once it failed or was deleted)."""
    return f"{reverse(KINDS[export.kind].view)}?{export.query}"
