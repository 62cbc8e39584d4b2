#!/usr/bin/env bash
# Turn a stock Raspberry Pi OS Lite 64-bit (Bookworm or Trixie) into a bulletin board.
#
#   sudo provisioning/install.sh [--wheel FILE.whl] [--boot DIR]
#
# Run it on the board (from a checkout of this repository, or with a wheel of the kiosk),
# or inside an image being built (provisioning/pi-gen runs exactly this script).
# Idempotent: a second run changes nothing, and needs no network when nothing is missing.
set -euo pipefail

PREFIX=/opt/kiosk
STAMP="$PREFIX/installed-wheel"
MARKER=.kiosk-release.json
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE="$(dirname "$HERE")"
WHEEL=""
BOOT=""
# The screen: SDL's KMS/DRM driver loads these, and Mesa's drivers (libgl1-mesa-dri,
# libegl-mesa0) draw. Without libopengl0, SDL 2.32 still picks its "opengl" renderer and
# the panel stays black. Then CEC (cec-ctl), the venv, TLS roots, security updates.
PACKAGES=(python3 python3-venv ca-certificates libdrm2 libgbm1 libegl1 libegl-mesa0 libgles2
    libopengl0 libgl1-mesa-dri v4l-utils unattended-upgrades)
# GPIO: lgpio comes from Raspberry Pi OS's own archive, for the venv's system site packages.
OPTIONAL_PACKAGES=(python3-lgpio)
GROUPS_NEEDED=(video render input gpio spi)
# Enabled at boot; UNIT_FILES adds those something else starts (a timer's service).
UNITS=(kiosk.service kiosk-firstboot.service kiosk-firstboot.path kiosk-setup.service
    kiosk-update.service kiosk-update-recover.service kiosk-os-update.timer)
UNIT_FILES=("${UNITS[@]}" kiosk-os-update.service)
# apt's own timers would download and upgrade at any hour: kiosk-os-update.timer does it.
APT_TIMERS=(apt-daily.timer apt-daily-upgrade.timer)

say() { printf 'install.sh: %s\n' "$*"; }
die() { printf 'install.sh: error: %s\n' "$*" >&2; exit 2; }

while [ $# -gt 0 ]; do
    case "$1" in
        --wheel) WHEEL="${2:?--wheel needs a file}"; shift 2 ;;
        --boot) BOOT="${2:?--boot needs a folder}"; shift 2 ;;
        -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
done
[ "$(id -u)" -eq 0 ] || die "run as root (sudo $0)"
[ -r /etc/os-release ] || die "/etc/os-release is missing: not a Debian system"
# shellcheck source=/dev/null
. /etc/os-release
case "${VERSION_CODENAME:-}" in
    bookworm|trixie) ;;
    *) say "warning: tested on Bookworm and Trixie, this is '${VERSION_CODENAME:-unknown}'" ;;
esac
if [ -z "$BOOT" ]; then
    if [ -d /boot/firmware ]; then BOOT=/boot/firmware; else BOOT=/boot; fi
fi

# True inside a chroot (an image build, a test): start nothing, reload nothing.
in_chroot() {
    ! [ -d /run/systemd/system ] || [ "$(stat -c %d:%i /)" != "$(stat -c %d:%i /proc/1/root/. 2>/dev/null)" ]
}

# Write a file only when its content differs, so a second run leaves mtimes alone.
put() { # put MODE DEST  (content on stdin)
    local tmp
    tmp="$(mktemp)"
    cat >"$tmp"
    if [ -f "$2" ] && cmp -s "$tmp" "$2"; then
        rm -f "$tmp"
        return 1
    fi
    install -D -m "$1" "$tmp" "$2"
    rm -f "$tmp"
    say "wrote $2"
}

APT_UPDATED=""
apt_update_once() {
    [ -n "$APT_UPDATED" ] || { apt-get update -qq; APT_UPDATED=1; }
}

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "ok installed"; }

step_packages() {
    local missing=() pkg
    for pkg in "${PACKAGES[@]}"; do
        installed "$pkg" || missing+=("$pkg")
    done
    for pkg in "${OPTIONAL_PACKAGES[@]}"; do
        installed "$pkg" && continue
        # Stock images ship without package lists: read them once, only when needed.
        if [ ${#missing[@]} -gt 0 ] || ! compgen -G '/var/lib/apt/lists/*_Packages' >/dev/null
        then
            apt_update_once
        fi
        if apt-cache show "$pkg" >/dev/null 2>&1; then
            missing+=("$pkg")
        else
            say "note: $pkg is not in this system's archives (not Raspberry Pi OS?): no GPIO"
        fi
    done
    [ ${#missing[@]} -gt 0 ] || return 0
    say "installing ${missing[*]}"
    apt_update_once
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

step_user() {
    local group
    for group in "${GROUPS_NEEDED[@]}"; do
        # Raspberry Pi OS has them all (its udev rules give them the devices); elsewhere
        # the unit's SupplementaryGroups= would refuse to start without them.
        getent group "$group" >/dev/null || { groupadd --system "$group"; say "group $group"; }
    done
    if ! id kiosk >/dev/null 2>&1; then
        useradd --system --user-group --home-dir /var/lib/kiosk --no-create-home \
            --shell /usr/sbin/nologin --comment "bulletin board kiosk" kiosk
        say "user kiosk"
    fi
    for group in "${GROUPS_NEEDED[@]}"; do
        id -nG kiosk | tr ' ' '\n' | grep -qx "$group" || usermod -a -G "$group" kiosk
    done
}

# The wheel's RECORD lists a hash of every file in it: the same RECORD is the same kiosk.
wheel_id() {
    python3 - "$1" <<'EOF'
import hashlib, sys, zipfile
with zipfile.ZipFile(sys.argv[1]) as z:
    record = next(n for n in z.namelist() if n.endswith(".dist-info/RECORD"))
    print(hashlib.sha256(z.read(record)).hexdigest())
EOF
}

# The first release (release A), laid out as `kiosk update` lays out every later one: its
# wheels kept in $PREFIX/wheels/<sha256> (an update then fetches only what changed), a venv
# in $PREFIX/releases/<version> made whole by its marker, and the links `current` (what the
# kiosk runs) and `committed` (what the updater runs). A flashed board and an updated board
# are the same.
step_release() {
    local build="" wheels=() work id version rel sha file old
    if [ -z "$WHEEL" ]; then
        [ -f "$SOURCE/pyproject.toml" ] || die "no --wheel and no source tree at $SOURCE"
        build="$(mktemp -d)"
        python3 -m venv "$build/venv"
        # A fixed date makes the same source the same wheel (see wheel_id), as kiosk
        # release build makes it.
        SOURCE_DATE_EPOCH=315532800 "$build/venv/bin/python" -m pip wheel --quiet --no-deps \
            --wheel-dir "$build" "$SOURCE"
        wheels=("$build"/*.whl)
        WHEEL="${wheels[0]}"
    fi
    [ -f "$WHEEL" ] || die "$WHEEL: no such wheel"
    id="$(wheel_id "$WHEEL")"
    version="$(basename "$WHEEL" | cut -d- -f2)"
    rel="$PREFIX/releases/$version"
    if [ "$(cat "$STAMP" 2>/dev/null)" != "$id" ] || [ ! -f "$rel/$MARKER" ]; then
        say "installing $(basename "$WHEEL") and its dependencies as release $version"
        install -d -m 0755 "$PREFIX" "$PREFIX/releases" "$PREFIX/wheels"
        rm -rf "$rel"
        # System site packages: lgpio (GPIO) is an apt package on Raspberry Pi OS.
        python3 -m venv --system-site-packages "$rel"
        work="$(mktemp -d)"
        cp "$WHEEL" "$work/"
        # Binary wheels only, as kiosk release build takes them: the same files, so the same
        # SHA-256, as the releases the province adds later.
        PIP_NO_CACHE_DIR=1 "$rel/bin/python" -m pip download --quiet --only-binary=:all: \
            --dest "$work" "$WHEEL"
        PIP_NO_CACHE_DIR=1 "$rel/bin/python" -m pip install --quiet --no-index \
            --find-links "$work" "$WHEEL"
        : >"$work/shas"
        for file in "$work"/*.whl; do
            sha="$(sha256sum "$file" | cut -d' ' -f1)"
            [ -f "$PREFIX/wheels/$sha" ] || install -m 0644 "$file" "$PREFIX/wheels/$sha"
            echo "$sha" >>"$work/shas"
        done
        sync
        "$rel/bin/python" - "$rel/$MARKER" "$version" "$work/shas" <<'EOF'
import json, sys
shas = sorted(open(sys.argv[3]).read().split())
open(sys.argv[1], "w").write(json.dumps({"version": sys.argv[2], "wheels": shas}))
EOF
        rm -rf "$work"
        printf '%s\n' "$id" >"$STAMP"
    fi
    link current "releases/$version"
    link committed "releases/$version"
    # The updater's state: this release runs and is committed.
    "$rel/bin/python" -I - "$PREFIX" "$version" <<'EOF'
import sys
from dataclasses import replace
from pathlib import Path
from kiosk.board.releasedir import ReleaseDir
layout = ReleaseDir(Path(sys.argv[1]))
state = layout.read_state()
first = replace(state, phase="idle", current=sys.argv[2], committed=sys.argv[2], target=None)
if first != state or not layout.state_file.exists():
    layout.write_state(first)
EOF
    for old in "$PREFIX"/releases/*; do  # a reinstall replaces what was there
        [ "$old" = "$rel" ] || [ ! -d "$old" ] || { rm -rf "$old"; say "removed $old"; }
    done
    [ ! -d "$PREFIX/venv" ] || { rm -rf "$PREFIX/venv"; say "removed the old $PREFIX/venv"; }
    # For a technician at the board's console: `kiosk status`, `kiosk update --once`.
    [ "$(readlink /usr/local/bin/kiosk 2>/dev/null)" = "$PREFIX/current/bin/kiosk" ] ||
        ln -sfn "$PREFIX/current/bin/kiosk" /usr/local/bin/kiosk
    [ -z "$build" ] || rm -rf "$build"
}

# link NAME TARGET: $PREFIX/NAME points at TARGET, replaced in one rename, or left alone.
link() {
    [ "$(readlink "$PREFIX/$1" 2>/dev/null)" = "$2" ] && return 0
    ln -sfn "$2" "$PREFIX/.$1.new"
    mv -T "$PREFIX/.$1.new" "$PREFIX/$1"
}

step_files() {
    local unit
    install -d -m 0755 /etc/kiosk
    [ -d /var/lib/kiosk ] || install -d -o kiosk -g kiosk -m 0750 /var/lib/kiosk
    for unit in "${UNIT_FILES[@]}"; do
        put 0644 "/etc/systemd/system/$unit" <"$SOURCE/systemd/$unit" || true
    done
    put 0644 /etc/apt/apt.conf.d/52kiosk-unattended-upgrades \
        <"$SOURCE/provisioning/apt/52kiosk-unattended-upgrades" || true
    # Logs in memory, capped: an SD card lasts longer, and a full card never stops the board.
    put 0644 /etc/systemd/journald.conf.d/kiosk.conf <<'EOF' || true
# Written by the kiosk's install.sh: the journal lives in memory, at most 32 MB.
[Journal]
Storage=volatile
RuntimeMaxUse=32M
EOF
}

step_services() {
    local unit
    for unit in "${UNITS[@]}"; do
        systemctl is-enabled --quiet "$unit" 2>/dev/null || systemctl enable --quiet "$unit"
    done
    for unit in "${APT_TIMERS[@]}"; do
        [ "$(systemctl is-enabled "$unit" 2>/dev/null)" = masked ] || systemctl mask --quiet "$unit"
    done
    # The panel is the kiosk's: no login prompt on it (tty2 and SSH still work).
    if systemctl is-enabled --quiet getty@tty1.service 2>/dev/null; then
        systemctl disable --quiet getty@tty1.service
    fi
    # A swap file on the SD card wears it out; Trixie's zram swap is left alone.
    if systemctl is-enabled --quiet dphys-swapfile.service 2>/dev/null; then
        systemctl disable --quiet dphys-swapfile.service
    fi
    in_chroot || systemctl daemon-reload
}

step_boot() {
    # The kernel command line and config.txt, shared with kiosk provision's own edits.
    "$PREFIX/current/bin/python" -I -m kiosk.installer.provision "$BOOT"
}

step_packages
step_user
step_release
step_files
step_services
step_boot
if in_chroot; then
    say "done (in a chroot: nothing started)"
else
    say "done: reboot, or provision the boot partition (kiosk provision) and then reboot"
fi
