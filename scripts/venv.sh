#!/usr/bin/env bash
# Sourced by scripts/run and scripts/test: makes .venv and installs the project into it,
# again only when pyproject.toml has changed since the last install.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PYTHON="${PYTHON:-python3}"

if ! "$PYTHON" -c 'import sys; sys.exit(not ((3, 11) <= sys.version_info[:2] < (3, 14)))' 2>/dev/null; then
    echo "error: the kiosk needs Python 3.11 to 3.13; '$PYTHON' is $("$PYTHON" --version 2>&1)." >&2
    echo "       Set PYTHON=/path/to/python3.x to choose another." >&2
    exit 2
fi
if [ ! -x "$VENV/bin/python" ]; then
    echo "Setting up a virtual environment in .venv (first run only)..." >&2
    if ! "$PYTHON" -m venv "$VENV"; then
        rm -rf "$VENV"
        echo "error: '$PYTHON -m venv' failed. On Debian, Ubuntu or Raspberry Pi OS:" >&2
        echo "       sudo apt install python3-venv" >&2
        exit 2
    fi
fi
STAMP="$VENV/.installed"
HASH="$(sha256sum < "$ROOT/pyproject.toml" | cut -c1-16)"
EXTRAS="${KIOSK_EXTRAS:-}"
HAVE_HASH="" HAVE_EXTRAS=""
[ -f "$STAMP" ] && read -r HAVE_HASH HAVE_EXTRAS < "$STAMP"
# Installed extras are kept: an install with the test and province extras also serves
# `scripts/run` and `scripts/try-province`; a missing extra is added to those installed.
MISSING=""
IFS=, read -ra WANTED <<< "$EXTRAS"
for extra in "${WANTED[@]}"; do
    case ",${HAVE_EXTRAS:-}," in *",$extra,"*) ;; *) MISSING=1 ;; esac
done
if [ "${HAVE_HASH:-}" != "$HASH" ] || [ -n "$MISSING" ]; then
    ALL="$(printf '%s,%s' "${HAVE_EXTRAS:-}" "$EXTRAS" | tr ',' '\n' | sed '/^$/d' | sort -u | paste -sd, -)"
    echo "Installing the kiosk and its dependencies into .venv..." >&2
    "$VENV/bin/python" -m pip install --quiet --upgrade pip >&2
    PYTHONWARNINGS=ignore "$VENV/bin/python" -m pip install --quiet -e "$ROOT${ALL:+[$ALL]}" >&2
    echo "$HASH $ALL" > "$STAMP"
fi
case ",${EXTRAS}," in *,test,*) "$ROOT/scripts/wheelhouse.sh" ;; esac
