"""The province's side of software updates (SPEC 7.2, 8), in process on a real SQLite database
with the time pinned: releases that `kiosk release build` wrote are taken into the site only
when a release key signed them; rollouts are signed with the content key, move through the
stages and never reuse a sequence; the page counts the boards from their heartbeats; the
rollout halts itself after `halt_after_failures` roll-backs, in the audit log and /metrics;
and it is signed again before it expires. The command line and a real board's `kiosk update
--once` against the site it writes are at the end."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from urllib.request import urlopen

import pytest

from kiosk.core.release import bucket, parse_rollout
from kiosk.core.signing import ROLLOUT_TYPE, public_key_text, raw_public_key, verify_envelope
from tests.releases import A1, A2, DEVICE, board_toml, copy_site

NOW = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)  # 09:00 in Vietnam
BOARDS = [DEVICE] + [f"08-{n:05d}-01" for n in range(1, 40)]
PASSWORD = "mat-khau-rat-dai-42"


@pytest.fixture
def province(django_db, built, monkeypatch, tmp_path):
    """The province's Django with [update] release_keys naming the builder's key, a site of
    its own, the inventory's boards, an admin and a technician."""
    from django.conf import settings
    from django.contrib.auth import get_user_model

    from kiosk.province.accounts.models import Profile
    from kiosk.province.bulletins.models import AuditEntry
    from kiosk.province.fleet.models import Board
    from kiosk.province.updates.models import Release, Rollout

    for model in (Release, Rollout, Board, AuditEntry):
        model.objects.all().delete()
    get_user_model().objects.all().delete()
    config = dataclasses.replace(settings.KIOSK_PROVINCE, site_dir=tmp_path / "site",
                                 release_keys=(built.builder.public_key,))  # fmt: skip
    monkeypatch.setattr(settings, "KIOSK_PROVINCE", config)
    for device in BOARDS:
        Board.objects.create(device_id=device, unit_name=f"UBND {device}", unit_kind="xa",
                             province_code="08")  # fmt: skip
    users = get_user_model()
    users.objects.create_superuser("quan-tri", password=PASSWORD)
    tech = users.objects.create_user("ky-thuat", password=PASSWORD)
    Profile.objects.create(user=tech, role="technician", channels=[])
    public_key = public_key_text(raw_public_key(django_db["key"]))
    return SimpleNamespace(site=config.site_dir, built=built.site, builder=built.builder,
                           public_key=public_key)  # fmt: skip


def signed_rollout(province):
    data = (province.site / "releases" / "rollout.json").read_bytes()
    return parse_rollout(json.loads(verify_envelope(data, [province.public_key], ROLLOUT_TYPE)))


def audit_actions() -> list[str]:
    from kiosk.province.bulletins.models import AuditEntry

    return list(AuditEntry.objects.order_by("at", "id").values_list("action", flat=True))


def added(province) -> None:
    from kiosk.province.updates.releases import add_release

    add_release(province.built, NOW, "tester")


def test_a_built_release_is_taken_into_the_site_once(province):
    from kiosk.province.updates.releases import add_release

    first = add_release(province.built, NOW, "tester")
    assert [(a.version, a.already) for a in first] == [(A1, False), (A2, False)]
    assert first[0].copied == first[0].wheels  # the first brings every wheel
    assert first[1].copied == 1  # A+2 changed only the kiosk: one new wheel
    for version in (A1, A2):
        name = f"releases/{version}.json"
        assert (province.site / name).read_bytes() == (province.built / name).read_bytes()
    for asset in (province.built / "assets").iterdir():
        assert (province.site / "assets" / asset.name).read_bytes() == asset.read_bytes()
    again = add_release(province.built, NOW, "tester")
    assert all(a.already for a in again)
    assert audit_actions() == ["release_added", "release_added"]


def _spoiled_copy(province, tmp_path, spoil) -> Path:
    folder = copy_site(province.built, tmp_path / "spoiled")
    spoil(folder)
    return folder


def _tamper_wheel(folder: Path) -> None:
    biggest = max((folder / "assets").iterdir(), key=lambda p: p.stat().st_size)
    data = bytearray(biggest.read_bytes())
    data[1000] ^= 0xFF
    biggest.unlink()  # a hard link to the shared build: never written through
    biggest.write_bytes(bytes(data))


def _drop_wheel(folder: Path) -> None:
    biggest = max((folder / "assets").iterdir(), key=lambda p: p.stat().st_size)
    biggest.unlink()


@pytest.mark.parametrize(
    ("spoil", "says"),
    [
        (_tamper_wheel, "is not the file the release signed"),
        (_drop_wheel, "is missing"),
    ],
)
def test_a_spoiled_release_folder_is_refused_and_the_site_gets_no_release(
    province, tmp_path, spoil, says
):
    from kiosk.province.updates.models import Release
    from kiosk.province.updates.releases import ReleaseRefused, add_release

    folder = _spoiled_copy(province, tmp_path, spoil)
    with pytest.raises(ReleaseRefused, match=says):
        add_release(folder, NOW, "tester")
    assert not (province.site / "releases").exists()
    assert not Release.objects.exists() and audit_actions() == []


def test_a_release_not_signed_by_a_release_key_is_refused(province, monkeypatch):
    from django.conf import settings

    from kiosk.province.updates.releases import ReleaseRefused, add_release

    # the province's own content key is not a release key
    monkeypatch.setattr(settings, "KIOSK_PROVINCE", dataclasses.replace(
        settings.KIOSK_PROVINCE, release_keys=(province.public_key,)))  # fmt: skip
    with pytest.raises(ReleaseRefused, match=r"signature_invalid.*release_keys"):
        add_release(province.built, NOW, "tester")
    monkeypatch.setattr(settings, "KIOSK_PROVINCE",
                        dataclasses.replace(settings.KIOSK_PROVINCE, release_keys=()))  # fmt: skip
    with pytest.raises(ReleaseRefused, match="no \\[update\\] release_keys"):
        add_release(province.built, NOW, "tester")
    assert not (province.site / "releases").exists()


def test_a_version_is_one_release(province, tmp_path):
    """The same version with other contents (rebuilt, or forged by a key holder) is refused."""
    from kiosk.province.updates.releases import ReleaseRefused, add_release

    added(province)
    other = tmp_path / "other"
    shutil.copytree(province.built, other, copy_function=os.link)
    doc = other / "releases" / f"{A1}.json"
    env = json.loads(doc.read_bytes())
    doc.unlink()
    doc.write_text(json.dumps(env, indent=2))  # the same signature, other bytes
    with pytest.raises(ReleaseRefused, match="added before, with other contents"):
        add_release(other, NOW, "tester")


def test_a_rollout_moves_through_the_stages_signed_by_the_content_key(province):
    from kiosk.province.updates import rollouts

    added(province)
    with pytest.raises(rollouts.RolloutRefused, match="never added"):
        rollouts.start(None, NOW, "9.9.9", [DEVICE])
    with pytest.raises(rollouts.RolloutRefused, match="not boards of the inventory"):
        rollouts.start(None, NOW, A1, ["08-99999-01"])
    assert not (province.site / "releases" / "rollout.json").exists()  # refusals sign nothing

    rollouts.start(None, NOW, A1, [DEVICE])
    seen = [signed_rollout(province)]
    assert (seen[0].version, seen[0].devices, seen[0].percent) == (A1, {DEVICE}, 0)
    assert seen[0].expires_at == NOW + timedelta(days=14)  # PROVINCE.toml's expires_days
    for percent in (10, 50, 100):
        rollouts.advance(None, NOW)
        seen.append(signed_rollout(province))
        assert (seen[-1].version, seen[-1].devices, seen[-1].percent) == (A1, {DEVICE}, percent)
    with pytest.raises(rollouts.RolloutRefused, match="every board already"):
        rollouts.advance(None, NOW)
    rollouts.halt(None, NOW)
    seen.append(signed_rollout(province))
    assert seen[-1].version is None and not seen[-1].chooses(DEVICE)
    sequences = [r.sequence for r in seen]
    assert sequences == sorted(set(sequences))  # every decision a new, higher sequence
    assert audit_actions() == ["release_added"] * 2 + ["rollout"] * 4 + ["rollout_halted"]
    # which boards 10% takes is SPEC 8.2's bucket, as the boards decide it
    ten = [d for d in BOARDS if d == DEVICE or bucket(d, A1) < 10]
    assert [d for d in BOARDS if seen[1].chooses(d)] == ten


def test_a_site_restored_from_a_newer_copy_never_gets_an_older_sequence(province):
    from kiosk.province.updates import rollouts
    from tests.releases import Rollouts

    added(province)
    from django.conf import settings

    from kiosk.core.signing import load_private_key

    key = load_private_key(settings.KIOSK_PROVINCE.signing_key)
    Rollouts(province.site, key).write(A1, sequence=90)  # the site is ahead of the database
    rollouts.start(None, NOW, A1, [DEVICE])
    assert signed_rollout(province).sequence == 91


def heartbeat(device: str, software: dict | None) -> None:
    from kiosk.province.fleet.heartbeatdoc import parse_heartbeat
    from kiosk.province.fleet.ingest import store_heartbeat

    health: dict = {"status": "ok", "problems": []}
    if software is not None:
        health["software"] = software
    doc = {"device_id": device, "sent_at": NOW.isoformat(), "health": health, "plays": []}
    assert store_heartbeat(device, parse_heartbeat(json.dumps(doc).encode(), device), NOW) == []


def software(version: str, state: str = "idle", target: str | None = None,
             failed: list[str] | None = None) -> dict:  # fmt: skip
    return {"version": version, "previous": None, "state": state, "target": target,
            "failed_versions": failed or [], "os_updates_pending": 0,
            "reboot_required": False}  # fmt: skip


A = "0.1.0"


def test_the_page_counts_the_boards_from_their_heartbeats(province):
    from kiosk.province.updates import rollouts

    added(province)
    rollouts.start(None, NOW, A1, BOARDS[:8])  # eight canaries
    heartbeat(BOARDS[0], software(A1))  # committed
    heartbeat(BOARDS[1], software(A1, "trial", A1))
    heartbeat(BOARDS[2], software(A, "downloading", A1))
    heartbeat(BOARDS[3], software(A, "staged", A1))
    heartbeat(BOARDS[4], software(A, "idle", None, [A1]))  # rolled back
    heartbeat(BOARDS[5], software(A))  # chosen, not started yet
    heartbeat(BOARDS[6], None)  # a board of a release before updates: no software block
    heartbeat(BOARDS[7], {"version": "<script>", "state": "idle"})  # garbled: not counted
    heartbeat(BOARDS[20], software(A))  # not chosen
    state = rollouts.status()
    c = state.counts
    assert (c.chosen, c.running, c.trial, c.on_the_way, c.rolled_back, c.waiting) == (
        8, 1, 1, 2, 1, 3)  # fmt: skip
    assert state.running[A1] == 2 and state.running[A] == 5
    assert state.running[""] == len(BOARDS) - 7  # never reported, no software block, garbled


def test_the_rollout_halts_itself_after_halt_after_failures_roll_backs(province):
    from kiosk.province.fleet.metrics import exposition
    from kiosk.province.server.housekeeping import keep_rollout
    from kiosk.province.updates import rollouts

    added(province)
    rollouts.start(None, NOW, A1, BOARDS[:5], 10)
    heartbeat(BOARDS[0], software(A, failed=[A1]))
    keep_rollout(NOW)  # one roll-back: halt_after_failures is 2
    assert signed_rollout(province).version == A1
    heartbeat(BOARDS[1], software(A, failed=["0.0.9", A1]))
    keep_rollout(NOW + timedelta(minutes=1))
    halted = signed_rollout(province)
    assert halted.version is None
    row = rollouts.current()
    assert (row.decided_by, row.halted_version) == ("hệ thống", A1)
    assert "2 bảng tin đã quay lại" in row.halt_reason
    assert audit_actions()[-1] == "rollout_halted"
    text = exposition(NOW)[0].decode()
    assert f'kiosk_province_rollout_halted{{by="auto",version="{A1}"}} 1.0' in text
    assert f'kiosk_province_rollout_rolled_back{{version="{A1}"}} 2.0' in text
    keep_rollout(NOW + timedelta(minutes=2))  # halted once, not again every minute
    assert signed_rollout(province).sequence == halted.sequence


def test_the_rollout_is_signed_again_before_it_expires_and_when_the_site_lost_it(province):
    from kiosk.province.updates import rollouts

    added(province)
    rollouts.start(None, NOW, A1, [DEVICE], 50)
    first = signed_rollout(province)
    assert rollouts.resign_if_due(NOW + timedelta(days=6)) is None  # 8 of 14 days left
    assert rollouts.resign_if_due(NOW + timedelta(days=8)) is not None  # 6 left: signed again
    again = signed_rollout(province)
    assert again.sequence > first.sequence and again.expires_at == NOW + timedelta(days=22)
    assert (again.version, again.devices, again.percent) == (A1, {DEVICE}, 50)
    shutil.rmtree(province.site / "releases")  # a lost disk
    written, signed = rollouts.restore_site(NOW + timedelta(days=9))
    assert written == 2 and signed
    assert signed_rollout(province).sequence > again.sequence
    assert (province.site / "releases" / f"{A2}.json").read_bytes() == (
        province.built / "releases" / f"{A2}.json").read_bytes()  # fmt: skip


def test_the_console_page_is_the_admins_and_in_vietnamese(province):
    from django.contrib.auth import get_user_model
    from django.test import Client

    def client(name: str) -> Client:
        c = Client()
        c.force_login(get_user_model().objects.get(username=name))
        return c

    assert client("ky-thuat").get("/cap-nhat/").status_code == 403
    assert client("ky-thuat").post("/cap-nhat/tiep").status_code == 403
    added(province)
    admin = client("quan-tri")
    page = admin.get("/cap-nhat/")
    text = page.content.decode()
    assert page.status_code == 200 and "Cập nhật phần mềm" in text
    assert "Chưa triển khai bản nào" in text and A1 in text and A2 in text
    bad = admin.post("/cap-nhat/trien-khai", {"version": A1, "devices": "", "percent": "0"})
    assert bad.status_code == 400 and "Chọn ít nhất một bảng thử trước" in bad.content.decode()
    done = admin.post("/cap-nhat/trien-khai",
                      {"version": A1, "devices": f"{DEVICE}\n{BOARDS[1]}", "percent": "0"},
                      follow=True)  # fmt: skip
    text = done.content.decode()
    assert f"Bản {A1}: 2 bảng thử trước" in text and 'id="advance"' in text
    assert signed_rollout(province).devices == {DEVICE, BOARDS[1]}
    text = admin.post("/cap-nhat/tiep", follow=True).content.decode()
    assert f"Bản {A1}: 2 bảng thử trước và 10% các bảng" in text
    text = admin.post("/cap-nhat/dung", follow=True).content.decode()
    assert f"Đã dừng triển khai bản {A1}" in text and signed_rollout(province).version is None
    from kiosk.province.bulletins.models import AuditEntry

    users = set(AuditEntry.objects.filter(action__startswith="rollout").values_list(
        "username", flat=True))  # fmt: skip
    assert users == {"quan-tri"}


def test_the_command_line_and_a_board_take_a_release_from_the_province(tmp_path, built):
    """`kiosk province release add` and `rollout` as a province runs them, then a board's
    `kiosk update --once` against the site they wrote: it installs the release."""
    from tests.province import Province
    from tests.provinceserver import ProvinceServer, inventory_row

    rows = [inventory_row(1) | {"device_id": DEVICE}, inventory_row(2)]
    server = ProvinceServer(tmp_path / "ps", "sqlite", rows)
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from kiosk.core.signing import write_private_key

    key = Ed25519PrivateKey.generate()
    write_private_key(server.root / "province.key", key)
    with server.config.open("a") as f:
        f.write(f'\n[update]\nrelease_keys = ["{built.builder.public_key}"]\n')
    server.register()  # the inventory's boards into the database
    cfg = ["--config", str(server.config)]
    done = server.kiosk("province", "release", "add", str(built.site), *cfg)
    assert done.returncode == 0, done.stderr
    assert f"{A1}: added" in done.stdout and f"{A2}: added, " in done.stdout
    refused = server.kiosk("province", "rollout", A1, "--devices", "08-99999-01", *cfg)
    assert refused.returncode == 2 and "not boards of the inventory" in refused.stderr
    halt_other = server.kiosk("province", "rollout", A2, "--halt", *cfg)
    assert halt_other.returncode == 2
    done = server.kiosk("province", "rollout", A1, "--devices", DEVICE, *cfg)
    assert done.returncode == 0, done.stderr
    assert f"{A1} to 1 canary boards and 0% of the fleet" in done.stdout

    site = Province(server.site_dir)
    site.server.start()
    try:
        content_key = public_key_text(raw_public_key(key))
        (tmp_path / "board").mkdir()
        toml = board_toml(tmp_path / "board" / "kiosk.toml", site.url, content_key,
                          [built.builder.public_key])  # fmt: skip
        run = subprocess.run(
            [sys.executable, "-m", "kiosk", "update", "--once", "--config", str(toml)],
            capture_output=True, text=True, timeout=600,
        )  # fmt: skip
        assert run.returncode == 0, run.stderr
        installed = tmp_path / "board" / "opt" / "releases" / A1 / "bin" / "python"
        version = subprocess.run([str(installed), "-I", "-m", "kiosk", "--version"],
                                 capture_output=True, text=True, timeout=60)  # fmt: skip
        assert version.stdout.strip() == f"kiosk {A1}"
    finally:
        site.server.stop()


# The release every board flashed before software updates runs: the last commit before them
# (issue 27's). A newer province server must keep serving it until each board is updated.
FIELD_RELEASE = "ea47ce36f98694a88958fceed26f216787dc8bd2"


def field_release_tree(dest: Path) -> Path:
    """The kiosk package of FIELD_RELEASE, from this clone's git history."""
    from tests.conftest import missing
    from tests.releases import REPO

    have = subprocess.run(["git", "-C", str(REPO), "cat-file", "-e", f"{FIELD_RELEASE}^{{commit}}"],
                          capture_output=True)  # fmt: skip
    if have.returncode != 0:
        missing(f"this clone's history lacks {FIELD_RELEASE[:10]} (a shallow clone?)")
    dest.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", FIELD_RELEASE, "kiosk"],
                             capture_output=True, check=True, timeout=60)  # fmt: skip
    subprocess.run(["tar", "-x", "-C", str(dest)], input=archive.stdout, check=True)
    return dest


def test_a_board_of_the_release_in_the_field_works_with_this_server(tmp_path):
    """A board that runs the release from before updates (no software block in its
    heartbeats) against this server: its heartbeats and plays are stored, it shows what the
    province publishes, and the update page counts it as not reporting its software."""
    from tests.province import Province, text
    from tests.provinceserver import ProvinceServer, inventory_row
    from tests.test_province_server import running_board, stored_plays, wait_for

    tree = field_release_tree(tmp_path / "field")
    site = Province(tmp_path / "site")
    site.server.start()
    server = ProvinceServer(tmp_path / "ps", "sqlite", [inventory_row(1) | {"device_id": DEVICE}],
                            site_dir=site.site)  # fmt: skip
    server.register()
    server.start()
    try:
        site.publish("xa-02263", [text("hop-dan", title="Họp dân tối thứ Sáu", duration=3)])
        token = server.api_token()
        with running_board(tmp_path, site, server, DEVICE, tree=tree) as board:
            version = json.loads(subprocess.run(
                [sys.executable, "-c", "import kiosk, json; print(json.dumps(kiosk.__version__))"],
                cwd=tree, capture_output=True, text=True, check=True).stdout)  # fmt: skip
            assert version == "0.1.0"

            def reported():
                _, doc = server.request("GET", "/api/v1/boards", token=token)
                (b,) = doc["boards"]
                return b["online"] and b["current_item"] and stored_plays(server) and b

            b = wait_for(reported, 90, "the field release's heartbeats with plays")
            assert b["status"] == "ok" and b["current_item"]["id"] == "hop-dan"
            health = json.loads(urlopen(board.url + "/health", timeout=10).read())
            assert "software" not in health  # it is the release before updates indeed
        rows = server.sql("SELECT software_version, software_state FROM fleet_board")
        assert rows == [("", "")]  # counted as "not reported" on the update page
    finally:
        server.stop()
        site.server.stop()


def test_two_decisions_at_the_same_moment_sign_one_and_refuse_the_other(province, monkeypatch):
    """The second took the same next sequence (it read the table before the first saved):
    it fails before writing the site, which keeps the first's document."""
    from kiosk.province.updates import rollouts

    added(province)
    rollouts.start(None, NOW, A1, [DEVICE])
    first = (province.site / "releases" / "rollout.json").read_bytes()
    taken = signed_rollout(province).sequence
    monkeypatch.setattr(rollouts, "_next_sequence", lambda: taken)  # read before the save
    with pytest.raises(rollouts.RolloutRefused, match="at the same moment"):
        rollouts.advance(None, NOW)
    assert (province.site / "releases" / "rollout.json").read_bytes() == first
    assert rollouts.current().percent == 0
