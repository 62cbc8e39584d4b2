"""`housekeeping`: the minute's chores, once (kiosk/province/server/housekeeping.py).

Run by kiosk-province-housekeeping.timer through `kiosk province housekeeping`, in its own
process: a failure is systemd's to see and log, and never touches gunicorn's workers."""

from __future__ import annotations

from datetime import datetime

from django.conf import settings
from django.core.management.base import BaseCommand

from kiosk.province.server.housekeeping import run_once


class Command(BaseCommand):
    help = "Boards gone dark noted, old plays folded, channels signed again before they expire."

    def handle(self, *args: object, **options: object) -> None:
        run_once(datetime.now().astimezone(), settings.KIOSK_PROVINCE)
