"""Times as a technician reads them (kiosk/core/vietnamese.py), pure."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from kiosk.core.vietnamese import ago_text, moment_text, when_text

HANOI = ZoneInfo("Asia/Ho_Chi_Minh")


def test_a_moment_reads_as_time_then_date():
    assert moment_text(datetime(2024, 4, 16, 8, 30, tzinfo=HANOI)) == "08:30 ngày 16/4/2024"


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "vừa xong"),
        (59, "vừa xong"),
        (60, "1 phút trước"),
        (3 * 60 + 59, "3 phút trước"),
        (3600, "1 giờ trước"),
        (23 * 3600 + 3599, "23 giờ trước"),
        (86400, "1 ngày trước"),
        (40 * 86400, "40 ngày trước"),
    ],
)
def test_how_long_ago(seconds, text):
    assert ago_text(seconds) == text


def test_when_is_in_the_given_time_zone_and_says_how_long_ago():
    moment = datetime(2024, 4, 16, 1, 30, tzinfo=UTC)
    now = moment + timedelta(minutes=3, seconds=20)
    assert when_text(moment, now, HANOI) == "08:30 ngày 16/4/2024 (3 phút trước)"
    assert when_text(now + timedelta(days=1), now, HANOI) == "08:33 ngày 17/4/2024"  # ahead
