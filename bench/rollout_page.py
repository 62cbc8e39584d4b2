"""The "Cập nhật phần mềm" page and /metrics at N boards (default 10,000), each reporting
its software: how fast the province server answers them, on SQLite and PostgreSQL.

    .venv/bin/python bench/rollout_page.py                     # 10,000 boards, both
    .venv/bin/python bench/rollout_page.py --database sqlite --boards 1000

The boards are registered as `kiosk province boards` does; their software columns are set
as their heartbeats would leave them mid-rollout (a tenth on the new release, a few rolled
back, some downloading); a release and a rollout at 50% are signed by the real commands.
Then `kiosk province serve` answers real HTTP requests on loopback; each address is asked
REPEAT times and its 50th and 95th percentiles are printed, then one JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bench.plays import timing_figure
from kiosk.core.signing import write_private_key
from tests.provinceserver import ProvinceServer, console_login, inventory_row
from tests.services import postgres_cluster

REPEAT = 20
OLD, NEW = "0.1.0", "0.1.1"
PASSWORD = "mat-khau-rat-dai-42"


def boards_mid_rollout(server: ProvinceServer) -> None:
    """Software columns as heartbeats leave them: a tenth run NEW, one in 500 rolled back
    from it, one in 50 downloading it, one in 20 never reported."""
    server.execute(
        "UPDATE fleet_board SET "
        f"software_version = CASE WHEN number % 20 = 7 THEN '' "
        f"WHEN number % 10 = 0 THEN '{NEW}' ELSE '{OLD}' END, "
        "software_state = CASE WHEN number % 20 = 7 THEN '' "
        "WHEN number % 50 = 3 THEN 'downloading' ELSE 'idle' END, "
        f"software_target = CASE WHEN number % 50 = 3 THEN '{NEW}' ELSE '' END, "
        f"software_failed = CASE WHEN number % 500 = 1 THEN ' {NEW} ' ELSE '' END"
    )
    server.sql(
        "INSERT INTO updates_release (version, issued_at, added_at, added_by, requires_python, "
        "wheels, size, envelope) VALUES (%s, %s, %s, 'bench', '>=3.11', 22, 29540000, %s) "
        "RETURNING version",
        (NEW, "2026-12-01 08:00:00", "2026-12-01 09:00:00", b"{}"),
    )


def measure(database: str, root: Path, boards: int, repeat: int) -> dict:
    rows = [inventory_row(n) for n in range(1, boards + 1)]
    server = ProvinceServer(root, database, rows)
    write_private_key(server.root / "province.key", Ed25519PrivateKey.generate())
    label = database.split(":")[0]
    print(f"{label}: {boards} boards", flush=True)
    server.register()
    token = server.api_token("quan-tri", "admin")
    boards_mid_rollout(server)
    done = server.kiosk("province", "rollout", NEW, "--percent", "50",
                        "--config", str(server.config))  # fmt: skip
    assert done.returncode == 0, done.stderr
    server.start()
    results = {}
    try:
        session = console_login(server.url, "quan-tri", PASSWORD)
        gets = {
            "updates_page": lambda: session.get(server.url + "/cap-nhat/", timeout=120),
            "metrics": lambda: session.get(server.url + "/metrics", timeout=120,
                                           headers={"Authorization": f"Bearer {token}"}),
        }  # fmt: skip
        for name, get in gets.items():
            times, size = [], 0
            for _ in range(repeat):
                began = time.perf_counter()
                answer = get()
                times.append((time.perf_counter() - began) * 1000)
                assert answer.status_code == 200, (name, answer.status_code)
                size = len(answer.content)
            results[name] = timing_figure(name, times, size)
        page = session.get(server.url + "/cap-nhat/", timeout=120).text
        assert f"Bản {NEW}: 50% các bảng" in page, page[:500]
    finally:
        server.stop()
    return {"boards": boards, **results}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--boards", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=REPEAT, help="times a page is asked")
    args = parser.parse_args()
    figures: dict = {"machine": {"cpus": os.cpu_count(), "python": platform.python_version()}}
    with tempfile.TemporaryDirectory(prefix="kiosk-rollout-") as tmp:
        if args.database in ("sqlite", "both"):
            figures["sqlite"] = measure("sqlite", Path(tmp) / "sqlite", args.boards, args.repeat)
        if args.database in ("postgresql", "both"):
            with postgres_cluster() as pg:
                figures["postgresql"] = measure(pg.database(), Path(tmp) / "postgresql",
                                                args.boards, args.repeat)  # fmt: skip
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    sys.exit(main())
