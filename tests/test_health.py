"""The health model (SPEC 3.2, 3.3): each reading raises its problem code, and the status
follows the spec's rule. Pure, so every case is a table row."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from kiosk.core.health import (
    Problem,
    ProblemLog,
    Readings,
    find_problems,
    health_document,
    status_of,
)

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
HEALTHY = Readings(
    now=T0,
    items_active=3,
    loop_age_s=0.2,
    last_sync_success=T0 - timedelta(seconds=60),
    cpu_temp_c=55.0,
    throttled=0,
    disk_free_mb=5000.0,
    door_open=False,
    started_at=T0 - timedelta(hours=1),
)


def codes(r: Readings) -> list[str]:
    return [p.code for p in find_problems(r)]


def test_a_healthy_board_is_ok():
    assert find_problems(HEALTHY) == [] and status_of([]) == "ok"


@pytest.mark.parametrize(
    ("change", "code", "status"),
    [
        ({"loop_age_s": 10.5}, "display_stalled", "failing"),
        ({"items_active": 0}, "no_content", "failing"),
        ({"sync_failures": 3}, "sync_failing", "degraded"),
        ({"last_sync_success": T0 - timedelta(seconds=901)}, "sync_failing", "degraded"),
        ({"disk_free_mb": 100.0}, "disk_low", "degraded"),
        ({"cpu_temp_c": 80.0}, "overheating", "degraded"),
        ({"throttled": 0x1}, "undervoltage", "degraded"),
        ({"throttled": 0x50000}, "undervoltage", "degraded"),
        ({"heartbeat_failures": 3}, "heartbeat_failing", "degraded"),
        ({"door_open": True}, "door_open", "degraded"),
        (
            {"content_problems": (Problem("signature_invalid", "tinh-08: no signature"),)},
            "signature_invalid",
            "degraded",
        ),
    ],
)
def test_each_reading_raises_its_code(change, code, status):
    problems = find_problems(dataclasses.replace(HEALTHY, **change))
    assert [p.code for p in problems] == [code]
    assert status_of(problems) == status


@pytest.mark.parametrize(
    "change",
    [
        {"loop_age_s": 9.9},
        {"sync_failures": 2},
        {"last_sync_success": T0 - timedelta(seconds=899)},
        {"cpu_temp_c": 79.9},
        {"throttled": 0x4},  # throttled by heat alone: overheating says it, not undervoltage
        {"heartbeat_failures": 2},
        {"disk_free_mb": 256.0},
    ],
)
def test_just_below_each_threshold_is_fine(change):
    assert codes(dataclasses.replace(HEALTHY, **change)) == []


def test_values_this_machine_cannot_read_raise_nothing():
    blind = dataclasses.replace(
        HEALTHY, cpu_temp_c=None, throttled=None, disk_free_mb=None, door_open=None
    )
    assert codes(blind) == []


def test_a_screen_off_on_schedule_without_content_is_no_fault():
    off = dataclasses.replace(HEALTHY, items_active=0, display_state="off_scheduled")
    assert codes(off) == []


def test_a_board_that_never_synced_is_stale_after_three_polls_from_start():
    fresh = dataclasses.replace(HEALTHY, last_sync_success=None, started_at=T0)
    assert codes(fresh) == []
    later = dataclasses.replace(fresh, now=T0 + timedelta(seconds=901))
    assert codes(later) == ["sync_failing"]


def test_sync_failing_is_said_once_even_when_the_report_also_says_it():
    r = dataclasses.replace(
        HEALTHY, sync_failures=4, content_problems=(Problem("sync_failing", "tinh-08: HTTP 500"),)
    )
    assert codes(r) == ["sync_failing"]


def test_sync_failing_names_each_failing_channel_and_why():
    """Issue 26, 3: "3 syncs in a row have failed" named neither the channel nor the cause."""
    failed = (
        Problem("sync_failing", "tinh-08: the source answered HTTP 503", "tinh-08"),
        Problem("sync_failing", "xa-02263: the source answered HTTP 404", "xa-02263"),
    )
    early = dataclasses.replace(HEALTHY, sync_failures=2, content_problems=failed)
    assert codes(early) == []  # two failures are weather
    r = dataclasses.replace(early, sync_failures=3)
    assert [(p.channel, p.message) for p in find_problems(r)] == [
        ("tinh-08", "tinh-08: the source answered HTTP 503 (3 syncs in a row have failed)"),
        ("xa-02263", "xa-02263: the source answered HTTP 404 (3 syncs in a row have failed)"),
    ]


def test_failing_wins_over_degraded():
    both = dataclasses.replace(HEALTHY, loop_age_s=30.0, cpu_temp_c=85.0, door_open=True)
    problems = find_problems(both)
    assert [p.code for p in problems] == ["display_stalled", "overheating", "door_open"]
    assert status_of(problems) == "failing"


def test_since_is_when_a_problem_began_and_resets_once_it_clears():
    log = ProblemLog()
    hot = Problem("overheating", "the CPU is at 85 °C")
    door = Problem("door_open", "the cabinet door is open")
    assert log.update([hot], T0) == [(hot, T0)]
    t1 = T0 + timedelta(minutes=5)
    assert log.update([hot, door], t1) == [(hot, T0), (door, t1)]
    t2 = t1 + timedelta(minutes=5)
    assert log.update([door], t2) == [(door, t1)]
    t3 = t2 + timedelta(minutes=5)
    assert log.update([hot, door], t3) == [(hot, t3), (door, t1)]  # a new episode
    assert len(log.since) == 2


def test_the_document_carries_status_problems_and_the_parts():
    hot = Problem("overheating", "the CPU is at 85 °C")
    doc = health_document("degraded", [(hot, T0)], {"version": "0.1.0", "uptime_s": 5})
    assert doc == {
        "status": "degraded",
        "problems": [
            {"code": "overheating", "message": "the CPU is at 85 °C", "since": T0.isoformat()}
        ],
        "version": "0.1.0",
        "uptime_s": 5,
    }
