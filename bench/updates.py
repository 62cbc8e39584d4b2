"""What a software update costs a board (SPEC 8.3): the bytes it downloads and the seconds
from its look at the rollout to a release installed beside and self-checked, for

  - a first update (a board holding no wheel: every dependency comes),
  - a release that changed only the kiosk's code,
  - a release that changed a large dependency (pygame-ce, another version).

    .venv/bin/python bench/updates.py

Real parts on loopback: `kiosk release build`'s code builds the releases of this checkout
for this machine's Python (pip's own index, for the other pygame-ce), a real HTTP server
serves the site, the board's updater installs real venvs. Prints a line per case, then one
JSON object as the last line.
"""

from __future__ import annotations

import json
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from kiosk import __version__
from kiosk.board.releasedir import ReleaseDir
from kiosk.board.source import HttpSource
from kiosk.board.updater import Updater
from kiosk.core.config import load_config
from tests.province import Province
from tests.releases import Builder, Rollouts, board_toml, later_version

OTHER_PYGAME = "pygame-ce==2.5.7"


def main() -> int:
    with tempfile.TemporaryDirectory(prefix="bench-updates-") as tmp:
        root = Path(tmp)
        builder = Builder(root)
        site = root / "site"
        a1, a2, a3 = later_version(1), later_version(2), later_version(3)
        builder.build(a1, site, offline=False)

        def kiosk_only(tree: Path) -> None:
            with (tree / "kiosk" / "board" / "selfcheck.py").open("a") as f:
                f.write("\n# a change to the kiosk's code only\n")

        def other_pygame(tree: Path) -> None:
            pyproject = tree / "pyproject.toml"
            text = pyproject.read_text()
            start = text.index('"pygame-ce')
            end = text.index('"', start + 1)
            pyproject.write_text(text[:start] + f'"{OTHER_PYGAME}' + text[end:])

        builder.build(a2, site, kiosk_only, offline=False)
        builder.build(a3, site, other_pygame, offline=False)
        province = Province(site)
        province.server.start()
        rollouts = Rollouts(site, province.key)
        config = load_config(board_toml(root / "kiosk.toml", province.url,
                                        province.public_key, [builder.public_key]))  # fmt: skip
        layout = ReleaseDir(config.update.dir)
        source = HttpSource(config.source.url, config.device.id)
        updater = Updater(config, source, layout, running_version=__version__)
        cases = []
        try:
            for name, version in (("first update, no wheel held", a1),
                                  ("only the kiosk changed", a2),
                                  (f"pygame-ce changed ({OTHER_PYGAME})", a3)):  # fmt: skip
                rollouts.write(version, issued=datetime.now(UTC))  # the real clock
                started = time.monotonic()
                outcome = updater.check()
                seconds = time.monotonic() - started
                assert outcome.ok and outcome.version == version, outcome.message
                installed = sum(
                    p.stat().st_size for p in layout.release_path(version).rglob("*") if p.is_file()
                )
                case = {"case": name, "version": version, "downloaded_bytes": outcome.fetched_bytes,
                        "seconds": round(seconds, 1), "installed_bytes": installed}  # fmt: skip
                cases.append(case)
                print(f"{name}: {outcome.fetched_bytes / 1e6:.2f} MB downloaded, "
                      f"{seconds:.1f} s to install beside and self-check "
                      f"({installed / 1e6:.0f} MB installed)", flush=True)  # fmt: skip
        finally:
            source.close()
            province.server.stop()
        print(json.dumps({"machine": platform.machine(), "python": platform.python_version(),
                          "cases": cases}))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
