"""Monitoring on Prometheus: `kiosk fleet prometheus` targets, and provisioning/monitoring/'s
scrape configuration and alert rules, checked by parsing, by promtool (check config, check
rules, test rules), and by a real Prometheus scraping boards on 127.0.0.1."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import time
import urllib.request
from contextlib import ExitStack
from datetime import UTC, datetime
from pathlib import Path

import yaml
from prometheus_client.parser import text_string_to_metric_families

from kiosk.core.health import OVERHEAT_C, PROBLEM_CODES
from tests.conftest import ROOT, require_tool
from tests.countingsource import free_port
from tests.fleetboards import HealthBoard, metrics_text, recorded
from tests.provinceserver import ProvinceServer, inventory_row
from tests.test_cli import kiosk

MONITORING = ROOT / "provisioning" / "monitoring"
ALERTS = ("KioskBoardDown", "KioskSyncStale", "KioskEmergencyActive", "KioskOverheating",
          "KioskDiskLow", "KioskClockUnsynced", "KioskFailing", "KioskBoardSilent",
          "KioskPushedBoardFailing")  # fmt: skip
HEADER = "device_id,health_url,unit_name,unit_kind,province_code,commune_code,district,installed_on"


def write_inventory(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join([HEADER, *rows]) + "\n", "utf-8")
    return path


def test_fleet_prometheus_writes_a_target_for_each_board_with_its_labels(tmp_path):
    inventory = write_inventory(
        tmp_path / "inventory.csv",
        [
            "08-02263-01,http://10.8.0.5:8080,UBND xã Tân Trào,xa,08,02263,Sơn Dương,2024-04-16",
            "08-00001-01,https://giamsat.tuyenquang.gov.vn/bang-tin/08-00001-01/health,"
            "Quảng trường Nguyễn Tất Thành,tinh,08,,,2023-09-02",
        ],
    )
    targets = tmp_path / "prometheus" / "kiosk-targets.json"
    done = kiosk("fleet", "prometheus", str(inventory), "--out", str(targets))
    assert done.returncode == 0, done.stderr
    assert json.loads(targets.read_text("utf-8")) == [
        {
            "targets": ["10.8.0.5:8080"],
            "labels": {
                "__scheme__": "http",
                "__metrics_path__": "/metrics",
                "device_id": "08-02263-01",
                "unit_name": "UBND xã Tân Trào",
                "unit_kind": "xa",
                "province_code": "08",
                "commune_code": "02263",
                "district": "Sơn Dương",
            },
        },
        {
            "targets": ["giamsat.tuyenquang.gov.vn"],  # behind the province's proxy
            "labels": {
                "__scheme__": "https",
                "__metrics_path__": "/bang-tin/08-00001-01/metrics",
                "device_id": "08-00001-01",
                "unit_name": "Quảng trường Nguyễn Tất Thành",
                "unit_kind": "tinh",
                "province_code": "08",
            },
        },
    ]
    assert [p.name for p in targets.parent.iterdir()] == ["kiosk-targets.json"]  # no temp left
    to_stdout = kiosk("fleet", "prometheus", str(inventory))
    assert json.loads(to_stdout.stdout) == json.loads(targets.read_text("utf-8"))

    promtool = require_tool("promtool", "prometheus")
    folder = tmp_path / "prometheus"
    for name in ("prometheus.yml", "kiosk-alerts.yml"):
        shutil.copy(MONITORING / name, folder / name)
    checked = subprocess.run([promtool, "check", "config", str(folder / "prometheus.yml")],
                             capture_output=True, text=True)  # fmt: skip
    assert checked.returncode == 0, checked.stdout + checked.stderr  # the targets file too
    targets.write_text('[{"targets": ["10.8.0.5:8080"], "labels": {"district": 1}}]')
    checked = subprocess.run([promtool, "check", "config", str(folder / "prometheus.yml")],
                             capture_output=True, text=True)  # fmt: skip
    assert checked.returncode == 1  # promtool does read the targets file


def exported_metrics() -> set[str]:
    """Every series name the kiosk's /metrics writes, when every value can be read."""
    doc = recorded("08-02263-01", "UBND xã Tân Trào", temp=61.5)
    families = text_string_to_metric_families(metrics_text(doc).decode())
    return {sample.name for family in families for sample in family.samples}


def province_metrics(root: Path) -> set[str]:
    """Every series name a real province server's /metrics writes, once a board reported a
    problem in its heartbeat."""
    server = ProvinceServer(root, "sqlite", [inventory_row(1)])
    token = server.register()[inventory_row(1)["device_id"]]
    server.start()
    try:
        device = inventory_row(1)["device_id"]
        beat = {
            "device_id": device,
            "sent_at": datetime.now(UTC).isoformat(),
            "health": {"status": "degraded", "problems": [{"code": "disk_low"}]},
            "plays": [],
        }
        status, _ = server.request(
            "POST", f"/devices/{device}/heartbeat", json.dumps(beat).encode(), token
        )
        assert status == 200
        server.request("POST", f"/devices/{device}/heartbeat", b"{}", "bt_wrong")  # a refusal
        _, text = server.request("GET", "/metrics")
    finally:
        server.stop()
    return {s.name for family in text_string_to_metric_families(text) for s in family.samples}


def test_alert_rules_cover_each_case_on_metrics_the_kiosk_and_the_province_export(tmp_path):
    """Parsed without promtool: what a laptop without the prometheus package can check."""
    doc = yaml.safe_load((MONITORING / "kiosk-alerts.yml").read_text("utf-8"))
    rules = {r["alert"]: r for group in doc["groups"] for r in group["rules"]}
    assert set(rules) == set(ALERTS)
    exported = exported_metrics() | province_metrics(tmp_path / "province") | {"up"}
    for name, rule in rules.items():
        assert rule["labels"]["severity"] in ("info", "warning", "critical"), name
        assert "{{ $labels.device_id }}" in rule["annotations"]["summary"], name
        assert "{{ $labels.unit_name }}" in rule["annotations"]["summary"], name
        used = set(re.findall(r"\b(kiosk_[a-z_0-9]+|up)\b", rule["expr"]))
        assert used and used <= exported, f"{name} uses {used - exported}"
        for code in re.findall(r'code="([a-z_]+)"', rule["expr"]):
            assert code in PROBLEM_CODES, name
    threshold = re.search(r">= (\d+)", rules["KioskOverheating"]["expr"]).group(1)
    assert float(threshold) == OVERHEAT_C  # the board's own overheating problem agrees
    config = yaml.safe_load((MONITORING / "prometheus.yml").read_text("utf-8"))
    assert config["rule_files"] == ["kiosk-alerts.yml"]
    jobs = {job["job_name"]: job for job in config["scrape_configs"]}
    assert set(jobs) == {"kiosk", "kiosk-province"}  # KioskBoardDown asks up{job="kiosk"}
    assert jobs["kiosk"]["file_sd_configs"][0]["files"] == ["kiosk-targets.json"]
    assert jobs["kiosk-province"]["static_configs"][0]["targets"] == ["127.0.0.1:8700"]


def test_alert_rules_pass_promtool_and_their_unit_tests():
    promtool = require_tool("promtool", "prometheus")
    for args in (
        ("check", "rules", "kiosk-alerts.yml"),
        ("test", "rules", "kiosk-alerts.test.yml"),
    ):
        done = subprocess.run([promtool, *args], cwd=MONITORING, capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "SUCCESS" in done.stdout
    # The unit tests test every alert.
    tested = set(
        re.findall(r"alertname: (\w+)", (MONITORING / "kiosk-alerts.test.yml").read_text())
    )
    assert tested == set(ALERTS)


def get_json(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.loads(answer.read())


def wait_for(url: str, check, timeout: float = 45) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        try:
            doc = get_json(url)
            if check(doc["data"]):
                return doc["data"]
        except OSError:
            pass  # Prometheus is still starting
        if time.monotonic() > deadline:
            raise AssertionError(f"{url}: not as expected in {timeout} s: {doc}")
        time.sleep(0.5)


def test_a_real_prometheus_scrapes_the_fleet_and_raises_the_alerts(tmp_path):
    binary = require_tool("prometheus", "prometheus")
    with ExitStack() as stack:
        synced = datetime.now(UTC).isoformat(timespec="seconds")  # not stale: just synced
        hot = recorded("08-02212-02", "UBND xã Đà Vị", temp=85.0, last_sync=synced)
        emergency = recorded("08-02410-01", "UBND thị trấn Sơn Dương", last_sync=synced)
        emergency["content"]["emergency_active"] = True
        boards = [HealthBoard(hot), HealthBoard(emergency)]
        for board in boards:
            stack.callback(board.stop)
        inventory = write_inventory(
            tmp_path / "inventory.csv",
            [
                f"08-02212-02,{boards[0].url},UBND xã Đà Vị,xa,08,02212,Lâm Bình,2024-07-02",
                f"08-02410-01,{boards[1].url}/health,UBND thị trấn Sơn Dương,thi_tran,08,02410,"
                "Sơn Dương,2024-03-01",
                f"08-02266-01,http://127.0.0.1:{free_port()},UBND xã Minh Thanh,xa,08,02266,"
                "Sơn Dương,2024-05-16",
            ],
        )
        done = kiosk(
            "fleet", "prometheus", str(inventory), "--out", str(tmp_path / "kiosk-targets.json")
        )
        assert done.returncode == 0, done.stderr
        # The shipped configuration, with seconds for minutes and no Alertmanager to call.
        config = yaml.safe_load((MONITORING / "prometheus.yml").read_text("utf-8"))
        config["global"] = {"scrape_interval": "1s", "scrape_timeout": "1s",
                            "evaluation_interval": "1s"}  # fmt: skip
        del config["alerting"]
        # the boards' own job only: no province server runs in this test
        config["scrape_configs"] = [j for j in config["scrape_configs"] if j["job_name"] == "kiosk"]
        (tmp_path / "prometheus.yml").write_text(yaml.safe_dump(config, allow_unicode=True))
        shutil.copy(MONITORING / "kiosk-alerts.yml", tmp_path / "kiosk-alerts.yml")
        port = free_port()
        proc = subprocess.Popen(
            [binary, f"--config.file={tmp_path / 'prometheus.yml'}",
             f"--storage.tsdb.path={tmp_path / 'data'}", f"--web.listen-address=127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL, stderr=(tmp_path / "prometheus.log").open("w"),
        )  # fmt: skip
        stack.callback(proc.wait, 20)
        stack.callback(proc.terminate)
        api = f"http://127.0.0.1:{port}/api/v1"

        def scraped(data) -> bool:
            return len(data["activeTargets"]) == 3 and all(
                t["health"] != "unknown" for t in data["activeTargets"]
            )

        targets = wait_for(f"{api}/targets", scraped)["activeTargets"]
        health = {t["labels"]["instance"]: t["health"] for t in targets}
        assert health == {"08-02212-02": "up", "08-02410-01": "up", "08-02266-01": "down"}
        by_board = {t["labels"]["device_id"]: t for t in targets}
        assert by_board["08-02410-01"]["labels"]["unit_name"] == "UBND thị trấn Sơn Dương"
        assert by_board["08-02410-01"]["scrapeUrl"] == boards[1].url + "/metrics"

        def raised(data) -> bool:
            return len(data["alerts"]) >= 3

        alerts = wait_for(f"{api}/alerts", raised)["alerts"]
        states = {(a["labels"]["alertname"], a["labels"]["device_id"]): a["state"] for a in alerts}
        assert states == {
            ("KioskOverheating", "08-02212-02"): "pending",  # for 10 minutes before it fires
            ("KioskEmergencyActive", "08-02410-01"): "firing",
            ("KioskBoardDown", "08-02266-01"): "pending",
        }
        hot_alert = next(a for a in alerts if a["labels"]["alertname"] == "KioskOverheating")
        assert (
            hot_alert["annotations"]["summary"]
            == "Bảng tin UBND xã Đà Vị (08-02212-02) quá nóng: 85 °C"
        )
