"""The package's layout holds: the pure core depends on nothing else of ours, the board
nothing of the province's, and a running board never loads the province server's packages
(Django, gunicorn, psycopg): a Pi carries none of them."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "kiosk"


def kiosk_imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text("utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("kiosk"):
            names.add(node.module)
        elif isinstance(node, ast.Import):
            names |= {a.name for a in node.names if a.name.startswith("kiosk")}
    return names


@pytest.mark.parametrize(
    ("part", "may_not"),
    [
        ("core", ("kiosk.board", "kiosk.province", "kiosk.installer", "kiosk.render", "kiosk.cli")),
        ("board", ("kiosk.province", "kiosk.installer", "kiosk.cli")),
        ("render", ("kiosk.board", "kiosk.province", "kiosk.installer", "kiosk.cli")),
        ("installer", ("kiosk.province", "kiosk.board", "kiosk.cli")),
        ("province", ("kiosk.board", "kiosk.installer", "kiosk.technician", "kiosk.cli")),
        ("technician", ("kiosk.board", "kiosk.installer", "kiosk.province", "kiosk.cli")),
        ("builder", ("kiosk.board", "kiosk.installer", "kiosk.province", "kiosk.cli")),
    ],
)
def test_each_part_imports_only_what_runs_where_it_runs(part, may_not):
    wrong = {
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in (PACKAGE / part).rglob("*.py")
        for name in kiosk_imports(path)
        if name.startswith(may_not)
    }
    assert not wrong


def loaded(modules: str, packages: set[str]) -> str:
    """Which of packages a fresh interpreter has loaded once it imported modules."""
    code = (
        f"import sys, {modules}\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & {packages!r}))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    return out.stdout.strip()


def test_a_running_board_loads_none_of_the_province_servers_packages():
    modules = "kiosk.cli, kiosk.board.app, kiosk.board.push, kiosk.board.firstboot"
    assert loaded(modules, {"django", "gunicorn", "psycopg", "psycopg_binary"}) == "[]"


def test_the_updater_and_os_updates_load_no_pygame():
    """kiosk-update-recover.service runs at every boot before the kiosk, and rolls a bad
    release back: it must not wait on, or crash with, the drawing program's pygame."""
    modules = "kiosk.cli, kiosk.board.updatecmd, kiosk.board.osupdate"
    assert loaded(modules, {"pygame", "django"}) == "[]"


MAX_CLASS_LINES = 250


def test_no_class_is_over_250_lines():
    """A class that grows past this has taken a second job (issue 25 split Player and
    Syncer); migrations, which Django writes, are not ours to shape."""
    big = {
        f"{path.relative_to(PACKAGE)}: {node.name} ({node.end_lineno - node.lineno + 1} lines)"
        for path in PACKAGE.rglob("*.py")
        if "migrations" not in path.parts
        for node in ast.walk(ast.parse(path.read_text("utf-8")))
        if isinstance(node, ast.ClassDef) and node.end_lineno - node.lineno + 1 > MAX_CLASS_LINES
    }
    assert not big
