"""The soak's short form: three simulated days of the kiosk's own parts against a province on
127.0.0.1 whose content changes every few hours (bench/soak.py, which also runs the long
form: `.venv/bin/python -m bench.soak --days 30`)."""

from __future__ import annotations

import itertools
import json
import subprocess
import sys

from tests.conftest import ROOT


def test_three_simulated_days_stay_within_the_bounds():
    proc = subprocess.run(
        [sys.executable, "-m", "bench.soak", "--days", "3", "--size", "960x540", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.stdout, proc.stderr
    result = json.loads(proc.stdout.splitlines()[-1])
    assert result["failures"] == [] and proc.returncode == 0, result["failures"]
    assert "Traceback" not in proc.stderr, proc.stderr
    samples = result["samples"]
    assert len(samples) == 72
    # it lived three days of a board: content changing, shown, reported, cleaned up
    assert result["publishes"] >= 18 and result["images_published"] >= 18
    assert result["slides_shown"] > 8000
    assert result["emergency_shown_s"] > 0  # a published emergency took the screen
    assert any(s["on_screen"] == "off_scheduled" for s in samples)  # dark at night
    assert all(s["status"] == "ok" for s in samples[2:]), [s["status"] for s in samples]
    files = [s["cache_files"] for s in samples]
    assert any(b < a for a, b in itertools.pairwise(files))  # the clean-up removed images
    assert max(s["plays_journal_bytes"] for s in samples) < 100_000  # heartbeats took the plays
