"""Django's settings module: `django-admin check --deploy` passes on the province server
made from the production PROVINCE.toml of provisioning/province/, and Django's own
commands work through `kiosk province manage`."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.provinceserver import inventory_row, write_inventory
from tests.test_publish_cli import keygen

ROOT = Path(__file__).resolve().parents[1]
PRODUCTION = ROOT / "provisioning/province/PROVINCE.toml"
BIN = Path(sys.executable).parent


def installed_here(tmp_path: Path) -> Path:
    """The production file, its two folders moved under tmp_path and nothing else."""
    var, etc = tmp_path / "var", tmp_path / "etc"
    var.mkdir()
    etc.mkdir()
    keygen(etc / "province.key")
    (etc / "INVENTORY.csv").write_text("device_id,unit_name\n", "utf-8")
    text = PRODUCTION.read_text("utf-8")
    assert "secure_cookies = true" in text and 'hosts = ["*"]' in text
    text = text.replace("/var/lib/kiosk-province", str(var)).replace(
        "/etc/kiosk-province", str(etc)
    )
    config = tmp_path / "PROVINCE.toml"
    config.write_text(text, "utf-8")
    return config


def test_django_admin_check_deploy_passes_with_the_production_settings(tmp_path):
    config = installed_here(tmp_path)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "kiosk.province.server.settings",
        "KIOSK_PROVINCE_CONFIG": str(config),
    }
    done = subprocess.run(
        [BIN / "django-admin", "check", "--deploy", "--fail-level", "WARNING"],
        env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no issues" in done.stdout
    # the secret key was made on first use, readable by the server's user alone
    assert (tmp_path / "var/secret.key").stat().st_mode & 0o777 == 0o600


def test_kiosk_province_manage_runs_djangos_commands_on_the_same_settings(tmp_path):
    config = installed_here(tmp_path)
    kiosk = [BIN / "kiosk", "province", "manage", "--config", str(config)]
    migrated = subprocess.run([*kiosk, "migrate", "--verbosity", "0"], capture_output=True,
                              text=True, timeout=300)  # fmt: skip
    assert migrated.returncode == 0, migrated.stderr
    shown = subprocess.run([*kiosk, "showmigrations"], capture_output=True, text=True, timeout=120)
    assert shown.returncode == 0 and "[X]" in shown.stdout and "[ ]" not in shown.stdout
    assert (tmp_path / "var/province.db").exists()  # the database PROVINCE.toml names


def test_the_settings_module_without_province_toml_says_what_to_set(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "KIOSK_PROVINCE_CONFIG"}
    env["DJANGO_SETTINGS_MODULE"] = "kiosk.province.server.settings"
    done = subprocess.run([BIN / "django-admin", "check"], env=env, capture_output=True,
                          text=True, timeout=120)  # fmt: skip
    assert done.returncode != 0
    assert "KIOSK_PROVINCE_CONFIG" in done.stderr


def test_the_background_work_is_djangos_management_commands_too(tmp_path):
    """`kiosk province boards`, `user add`, `housekeeping`... are management commands of the
    apps: Django's own command line runs them the same, exit codes included."""
    config = installed_here(tmp_path)
    write_inventory(tmp_path / "etc/INVENTORY.csv", [inventory_row(n) for n in (1, 2)])
    kiosk = [BIN / "kiosk", "province", "manage", "--config", str(config)]

    def manage(*argv: str, stdin: str | None = None) -> subprocess.CompletedProcess:
        return subprocess.run([*kiosk, *argv], input=stdin, capture_output=True, text=True,
                              timeout=300)  # fmt: skip

    assert manage("migrate", "--verbosity", "0").returncode == 0
    tokens = tmp_path / "TOKENS.csv"
    issued = manage("boards", "--tokens-out", str(tokens))
    assert issued.returncode == 0 and "new tokens written" in issued.stdout, issued.stderr
    again = manage("boards", "--tokens-out", str(tokens))
    assert again.returncode == 2 and "exists" in again.stderr  # the CLI's contract, kept
    added = manage("user_add", "ky-thuat", "--role", "technician", stdin="mat-khau-rat-dai-42\n")
    assert added.returncode == 0, added.stderr
    listed = manage("user_list")
    assert "ky-thuat\ttechnician\t*\tyes\t-" in listed.stdout
    assert manage("housekeeping").returncode == 0
