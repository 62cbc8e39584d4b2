"""System figures from files laid out like /sys and /proc: read where present, None where not."""

from __future__ import annotations

from pathlib import Path

from kiosk.board.sysinfo import LOADAVG, MEMINFO, THERMAL, THROTTLED, read_figures


def lay_out(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_a_raspberry_pi_tree_is_read(tmp_path):
    root = lay_out(
        tmp_path / "root",
        {
            THERMAL: "61234\n",
            THROTTLED: "50005\n",
            LOADAVG: "0.42 0.30 0.25 1/180 999\n",
            MEMINFO: "MemTotal:  3884000 kB\nMemAvailable:  2048000 kB\n",
        },
    )
    figures = read_figures(tmp_path, root)
    assert figures.cpu_temp_c == 61.2
    assert figures.throttled == 0x50005
    assert figures.load_1m == 0.42
    assert figures.mem_available_mb == 2000.0
    assert figures.disk_free_mb is not None and figures.disk_free_mb > 0


def test_what_a_machine_lacks_is_none_not_a_guess(tmp_path):
    root = lay_out(tmp_path / "root", {THERMAL: "not a number", MEMINFO: "MemTotal: 1 kB\n"})
    figures = read_figures(tmp_path / "missing", root)
    assert figures == type(figures)(None, None, None, None, None)


def test_this_machine_reads_without_error():
    figures = read_figures(Path("/"))
    assert figures.load_1m is not None and figures.mem_available_mb is not None
