#!/usr/bin/env bash
# Run by venv.sh when the test extra is installed: build/wheelhouse holds, for this machine's
# Python, every wheel of the kiosk's dependencies and the build's (setuptools), so that the
# tests of software updates (tests/test_updates.py) build and install releases offline,
# with no package index. Made again only when pyproject.toml changes.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
HOUSE="$ROOT/build/wheelhouse"
PY="${VENV:-$ROOT/.venv}/bin/python"
HASH="$(sha256sum < "$ROOT/pyproject.toml" | cut -c1-16)"
[ "$(cat "$HOUSE/.made" 2>/dev/null)" = "$HASH" ] && exit 0
echo "Filling build/wheelhouse for the update tests..." >&2
rm -rf "$HOUSE"
mkdir -p "$HOUSE"
PYTHONWARNINGS=ignore "$PY" -m pip download --quiet --only-binary=:all: --dest "$HOUSE" \
    "$ROOT" "setuptools>=77" >&2
echo "$HASH" > "$HOUSE/.made"
