"""kiosk province boards | user add | api-token, and PROVINCE.toml (SPEC 7.1-7.2), as an
installer at the province uses them: one clear message and exit 2 for a mistake, tokens
written once to a file only its owner reads, and only their hashes kept."""

from __future__ import annotations

import csv
import hashlib
import stat
from datetime import UTC, datetime, timedelta

import pytest

from tests.provinceserver import ProvinceServer, inventory_row, write_inventory
from tests.test_cli import kiosk


@pytest.fixture
def province(tmp_path):
    return ProvinceServer(tmp_path / "p", "sqlite", [inventory_row(n) for n in range(1, 4)])


def boards(p: ProvinceServer, out, *extra: str):
    return p.kiosk(
        "province", "boards", "--config", str(p.config), "--tokens-out", str(out), *extra
    )


def tokens_in(path) -> dict[str, str]:
    with path.open(encoding="utf-8") as f:
        return {r["device_id"]: r["token"] for r in csv.DictReader(f)}


def test_boards_writes_each_new_token_once_to_a_file_only_its_owner_reads(tmp_path, province):
    first = boards(province, tmp_path / "t1.csv")
    assert first.returncode == 0, first.stderr
    assert "3 boards registered; 3 new tokens" in first.stdout
    written = tokens_in(tmp_path / "t1.csv")
    assert set(written) == {r["device_id"] for r in province.rows}
    assert stat.S_IMODE((tmp_path / "t1.csv").stat().st_mode) == 0o600
    assert len(set(written.values())) == 3 and all(len(t) > 40 for t in written.values())
    kept = dict(province.sql("SELECT device_id, token_hash FROM fleet_board"))
    for device, token in written.items():  # only the hash is kept
        assert kept[device] == hashlib.sha256(token.encode()).hexdigest()
    assert token not in (province.root / "province.db").read_bytes().decode("latin-1")

    again = boards(province, tmp_path / "t1.csv")
    assert again.returncode == 2 and "exists" in again.stderr  # never written over
    assert tokens_in(tmp_path / "t1.csv") == written

    # a new board in the inventory gets a token; the others keep theirs
    write_inventory(province.inventory, [*province.rows, inventory_row(4)])
    more = boards(province, tmp_path / "t2.csv")
    assert more.returncode == 0 and "4 boards registered; 1 new tokens" in more.stdout
    assert list(tokens_in(tmp_path / "t2.csv")) == [inventory_row(4)["device_id"]]

    # a leaked token is replaced: the board gets a new one, the old hash is gone
    leaked = province.rows[0]["device_id"]
    reissued = boards(province, tmp_path / "t3.csv", "--reissue", leaked)
    assert reissued.returncode == 0, reissued.stderr
    new = tokens_in(tmp_path / "t3.csv")
    assert list(new) == [leaked] and new[leaked] != written[leaked]
    kept = dict(province.sql("SELECT device_id, token_hash FROM fleet_board"))
    assert kept[leaked] == hashlib.sha256(new[leaked].encode()).hexdigest()
    unknown = boards(province, tmp_path / "t4.csv", "--reissue", "08-99999-09")
    assert unknown.returncode == 2 and "not in the inventory" in unknown.stderr


def test_accounts_get_a_role_a_checked_password_and_api_tokens(province):
    config = ("--config", str(province.config))
    add = ("province", "user", "add")
    weak = province.kiosk(*add, "ky-thuat", "--role", "technician", *config, stdin="123456\n")
    assert weak.returncode == 2 and "password is refused" in weak.stderr
    ok = province.kiosk(*add, "ky-thuat", "--role", "technician", *config,
                        stdin="mat-khau-rat-dai-42\n")  # fmt: skip
    assert ok.returncode == 0 and "ky-thuat (technician) added" in ok.stdout
    twice = province.kiosk(*add, "ky-thuat", "--role", "admin", *config, stdin="x\n")
    assert twice.returncode == 2 and "exists" in twice.stderr
    scoped = province.kiosk(*add, "ky-thuat-2", "--role", "technician", "--channel", "xa-1",
                            *config, stdin="mat-khau-rat-dai-42\n")  # fmt: skip
    assert scoped.returncode == 2 and "--channel limits an author or an approver" in scoped.stderr
    author = province.kiosk(*add, "tac-gia", "--role", "author", "--channel", "xa-02263",
                            *config, stdin="mat-khau-rat-dai-43\n")  # fmt: skip
    assert author.returncode == 0, author.stderr
    hashes = [h for (h,) in province.sql("SELECT password FROM auth_user")]
    assert all(h.startswith("pbkdf2_sha256$") for h in hashes)  # Django's own hashing
    token = province.kiosk("province", "api-token", "ky-thuat", *config)
    assert token.returncode == 0 and token.stdout.strip().startswith("bta_")
    kept = [h for (h,) in province.sql("SELECT token_hash FROM accounts_apitoken")]
    assert kept == [hashlib.sha256(token.stdout.strip().encode()).hexdigest()]
    nobody = province.kiosk("province", "api-token", "ai-do", *config)
    assert nobody.returncode == 2 and "no active account" in nobody.stderr


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[server]\n", "[server] database: is required"),
        ('[server]\ndatabase = "mysql://x/y"\n', "neither sqlite"),
        ('[server]\ndatabase = "sqlite://relative.db"\n', "sqlite:////absolute"),
        ("[sever]\n", "did you mean [server]?"),
        ("[server]\nworkers = 0\n", "[server] workers: must be from 1 to 64, got 0"),
        ('[push]\nurl = "http://broker"\n', "[push] url: 'http://broker' is not mqtt://"),
        ("[server\n", "invalid TOML"),
    ],
)
def test_a_bad_province_toml_gets_one_clear_message_and_exit_2(tmp_path, text, message):
    config = tmp_path / "PROVINCE.toml"
    config.write_text(text)
    done = kiosk("province", "serve", "--config", str(config))
    assert done.returncode == 2 and message in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_housekeeping_notes_a_board_gone_dark_as_the_timer_runs_it(province):
    """kiosk-province-housekeeping.timer runs `kiosk province housekeeping` each minute, in
    its own process: a board silent for longer than 5 minutes gets its "offline" line."""
    province.register()
    device = province.rows[0]["device_id"]
    quiet = f"{datetime.now(UTC) - timedelta(minutes=6):%Y-%m-%d %H:%M:%S}"  # Django's UTC
    province.sql(
        "UPDATE fleet_board SET last_heartbeat_at = %s, status = 'ok', online_noted = %s "
        "WHERE device_id = %s",
        (quiet, True, device),
    )
    done = province.kiosk("province", "housekeeping", "--config", str(province.config))
    assert done.returncode == 0, done.stderr
    changes = province.sql(
        "SELECT c.status FROM fleet_statuschange c WHERE c.board_id = %s", (device,)
    )
    assert changes == [("offline",)]
    assert province.sql("SELECT online_noted FROM fleet_board WHERE device_id = %s",
                        (device,)) == [(0,)]  # fmt: skip
    again = province.kiosk("province", "housekeeping", "--config", str(province.config))
    assert again.returncode == 0 and len(province.sql("SELECT id FROM fleet_statuschange")) == 1
