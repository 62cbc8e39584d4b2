"""One CSV an officer asked for that is made in the background (making.py)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import models


class Export(models.Model):
    class State(models.TextChoices):
        MAKING = "making", "Đang chuẩn bị"
        READY = "ready", "Sẵn sàng"
        FAILED = "failed", "Không tạo được"

    # a random name: the page and the file's address say nothing of other officers' exports
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE)
    kind = models.CharField(max_length=20)  # tables.KINDS
    # the CSV address's parameters, as asked (bounded by the request line, 4 KiB)
    query = models.TextField()
    filename = models.CharField(max_length=200)
    state = models.CharField(max_length=10, choices=State.choices, default=State.MAKING)
    expected = models.PositiveIntegerField(default=0)  # bulletins or items to write
    rows = models.PositiveIntegerField(default=0)  # lines written so far
    size = models.PositiveBigIntegerField(default=0)
    asked_at = models.DateTimeField()
    touched_at = models.DateTimeField()  # the last sign of progress (a stalled one fails)
    finished_at = models.DateTimeField(null=True)
    problem = models.CharField(max_length=300, blank=True)  # for the officer, in Vietnamese
