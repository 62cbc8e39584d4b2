"""Django's settings module: `django-admin check --deploy` passes on the province server
made from the production PROVINCE.toml of provisioning/province/, and Django's own
commands work through `kiosk province manage`."""

from __future__ import annotations

import os
import re
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
    text = (
        text.replace("/var/lib/kiosk-province", str(var))
        .replace("/etc/kiosk-province", str(etc))
        .replace("/srv/bangtin/www", str(tmp_path / "www"))
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


def test_the_production_paths_fit_together():
    """Issue 26, 2: site_dir, nginx's root and the units' writable paths disagreed, and nginx
    could not read the server's state folder: a province following them got 404s. The site
    is where nginx serves /bangtin/ from, and both units may write it."""
    import re
    import tomllib

    site_dir = tomllib.loads(PRODUCTION.read_text("utf-8"))["server"]["site_dir"]
    locations = (ROOT / "docs/nginx/bangtin-locations.conf").read_text()
    prefix, root = re.search(r"location (/\w+)/ \{\s*root ([^;]+);", locations).groups()
    assert root + prefix == site_dir
    for unit in ("kiosk-province.service", "kiosk-province-housekeeping.service"):
        text = (ROOT / "provisioning/province" / unit).read_text()
        assert f"ReadWritePaths={site_dir}\n" in text and "UMask=0027" in text
    for guide in ("provisioning/province/README.md", "docs/huong-dan-may-chu-tinh.md"):
        steps = (ROOT / guide).read_text("utf-8")
        assert f"install -d -o kiosk-province -g www-data -m 2750 {site_dir}" in steps, guide


def test_what_the_server_writes_under_the_units_umask_nginxs_group_reads(tmp_path):
    """The site folder made as the guide makes it (group www-data, setgid, 2750), then written
    by `kiosk publish` under the units' UMask=0027: every folder is the web server's group's
    and open to it, every file readable by it."""
    from tests.test_publish_cli import keygen

    group = next((g for g in os.getgroups() if g != os.getegid()), None)
    if group is None and os.geteuid() == 0:
        group = 65534  # nogroup: root may give a folder to any group
    if group is None:
        import pytest

        pytest.skip("needs a second group of ours to stand for www-data")
    site = tmp_path / "www" / "bangtin"
    site.mkdir(parents=True)
    os.chown(site, -1, group)
    site.chmod(0o2750)
    key = tmp_path / "province.key"
    keygen(key)
    done = subprocess.run(
        [BIN / "kiosk", "publish", str(ROOT / "playlists" / "xa-02263.toml"), "--key", str(key),
         "--out", str(site)],
        capture_output=True, text=True, timeout=120, preexec_fn=lambda: os.umask(0o027),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    paths = list(site.rglob("*"))
    assert any(p.name == "manifest.json" for p in paths) and any(p.parent.name == "assets"
                                                                  for p in paths)  # fmt: skip
    for p in [site, *paths]:
        st = p.stat()
        assert st.st_gid == group, p
        assert st.st_mode & (0o050 if p.is_dir() else 0o040), (p, oct(st.st_mode))
        assert not st.st_mode & 0o002, p


def install_commands(guide: str) -> list[str]:
    """The commands of a guide's install block (the sh block after its install heading),
    comments and blank lines left out."""
    text = (ROOT / guide).read_text("utf-8")
    heading = re.search(r"^## (Install|Cài đặt)\b.*$", text, re.M)
    block = re.search(r"```sh\n(.*?)```", text[heading.end() :], re.S).group(1)
    return [line for line in block.splitlines() if line.strip() and not line.startswith("#")]


def test_the_english_and_vietnamese_install_guides_give_the_same_commands():
    """Issue 26, 1: three guides disagreed, and two forgot to give the server's user the
    signing key. There is one sequence, in English and in Vietnamese, command for command."""
    english = install_commands("provisioning/province/README.md")
    assert english == install_commands("docs/huong-dan-may-chu-tinh.md")
    assert "sudo chown kiosk-province: /etc/kiosk-province/province.key" in english
    assert any("pip install" in line and "[province]" in line and ".whl" in line
               for line in english)  # fmt: skip
    assert not any("pip install 'bangtin-kiosk" in line for line in english)
    checked = subprocess.run(["bash", "-n"], input="\n".join(english), text=True,
                             capture_output=True)  # fmt: skip
    assert checked.returncode == 0, checked.stderr
    for guide in ("README.md", "docs/province-server.md", "docs/huong-dan-may-chu-tinh.md",
                  "provisioning/province/README.md"):  # fmt: skip
        assert "pip install 'bangtin-kiosk[province]'" not in (ROOT / guide).read_text("utf-8")


def test_the_production_files_keep_exports_in_the_servers_own_state_not_the_public_site():
    """Large CSVs are written where kiosk-province.service may write (its StateDirectory)
    and nginx serves nothing: never beside site_dir, whose parent is nginx's root."""
    from kiosk.province.provinceconf import load_province_config

    config = load_province_config(PRODUCTION)
    assert config.exports_path == Path("/var/lib/kiosk-province/exports")
    unit = (ROOT / "provisioning/province/kiosk-province.service").read_text("utf-8")
    assert "StateDirectory=kiosk-province" in unit
    nginx = (ROOT / "provisioning/province/nginx-bangtin.conf").read_text("utf-8")
    assert "/var/lib/kiosk-province" not in nginx
