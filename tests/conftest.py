"""Shared test set-up: real pygame surfaces on SDL's dummy video driver, real files."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path
from typing import NoReturn

import pytest
from hypothesis import settings

os.environ["SDL_VIDEODRIVER"] = "dummy"
os.environ.setdefault("PYGAME_HIDE_SUPPORT_PROMPT", "1")

ROOT = Path(__file__).resolve().parents[1]

# Property tests: in CI a fixed set of examples, so a failure reproduces; "fuzz" hunts longer
# with new examples each run (HYPOTHESIS_PROFILE=fuzz ./scripts/test tests/test_fuzz.py).
settings.register_profile("ci", derandomize=True, deadline=None, max_examples=300)
settings.register_profile("fuzz", deadline=None, max_examples=5000)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


# The least a kiosk.toml holds, as parsed TOML (a commune's board).
MINIMAL_CONFIG = {
    "device": {
        "id": "08-02263-01",
        "unit_name": "UBND xã Tân Trào",
        "unit_kind": "xa",
        "province_code": "08",
        "commune_code": "02263",
    },
    "source": {
        "url": "http://127.0.0.1:9",
        "channels": ["tinh-08"],
        "public_keys": ["ed25519:A6EHv/POEL4dcN0Y50vAmWfk1jCbpQ1fHdyGZBJVMbg="],
    },
}


def require_tool(name: str, package: str) -> str:
    """The path of a system tool; a skip naming the package on a laptop, a failure in CI."""
    path = shutil.which(name)
    if path is None:
        missing(f"{name} is not installed (Debian package: {package})")
    return path


def missing(message: str) -> NoReturn:
    """A system tool is not installed: skip on a laptop, fail in CI."""
    if os.environ.get("CI") == "true":
        pytest.fail(message + "; CI must install it (.ci/run)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def fonts():
    from kiosk.render.fonts import Fonts

    return Fonts()


@pytest.fixture
def province(tmp_path):
    """A province with a key and its source served on 127.0.0.1 (tests/province.py)."""
    from tests.province import Province

    p = Province(tmp_path / "site")
    p.server.start()
    yield p
    p.server.stop()


@pytest.fixture(scope="session")
def django_db(tmp_path_factory):
    """The province server's Django, configured once for this test process (Django allows
    one configuration a process) on a fresh SQLite file, with a signing key and a site:
    {"root", "key"}. Tests that use it clear the tables they fill."""
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
    from django.core.management import call_command

    from kiosk.core.signing import write_private_key
    from kiosk.province.provinceconf import parse_province_config
    from kiosk.province.server.setup import configure

    root = tmp_path_factory.mktemp("province-django")
    key = Ed25519PrivateKey.generate()
    write_private_key(root / "province.key", key)
    server = {
        "database": f"sqlite:///{root / 'province.db'}",
        "site_dir": str(root / "site"),
        "signing_key": str(root / "province.key"),
        "inventory": str(root / "INVENTORY.csv"),
        "secure_cookies": False,
    }
    configure(parse_province_config({"server": server}))
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client keeps each response's template context
    call_command("migrate", interactive=False, verbosity=0)
    return {"root": root, "key": key}


# The whole board (tests/test_boot.py, tests/test_arm64.py) runs after everything else: CI
# builds the board image in the background meanwhile (.ci/run), and a failure of the
# quick tests shows first.
LAST = ("test_arm64.py", "test_boot.py")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    items.sort(key=lambda item: LAST.index(item.path.name) + 1 if item.path.name in LAST else 0)


def figures_printed(label: str, figures: dict):
    """A module-wide autouse fixture that prints `figures` (filled by the module's tests)
    once its tests are done: `print_figures = figures_printed("boot test", figures)`."""

    @pytest.fixture(scope="module", autouse=True)
    def print_figures(request):
        yield
        if figures:
            tell(request, f"\n{label} figures: " + json.dumps(figures))

    return print_figures


def tell(request: pytest.FixtureRequest, text: str) -> None:
    """A line on the terminal, past pytest's capture: the figures a slow test measured."""
    capture = request.config.pluginmanager.getplugin("capturemanager")
    with capture.global_and_fixture_disabled():
        print(text, flush=True)


@pytest.fixture(scope="session")
def built(tmp_path_factory):
    """Releases A+1 and A+2 of this checkout in a site, built once for the session's update
    tests (tests/releases.py)."""
    from tests.releases import build_both

    return build_both(tmp_path_factory.mktemp("releases"))
