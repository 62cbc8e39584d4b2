#!/bin/bash -e
# pi-gen, on the build host: make the image's root a bulletin board by running the same
# provisioning/install.sh an installer runs on a board (no step of it is copied here).
# KIOSK_SRC is this repository's path, set in pi-gen's config (see ../../config.example).
: "${KIOSK_SRC:?set KIOSK_SRC in the pi-gen config to the path of this repository}"
: "${ROOTFS_DIR:?run by pi-gen, which sets ROOTFS_DIR}"

STAGING="${ROOTFS_DIR}/tmp/kiosk-src"
rm -rf "${STAGING}"
install -d "${STAGING}"
cp -a "${KIOSK_SRC}/provisioning" "${KIOSK_SRC}/systemd" "${STAGING}/"
# The wheel is built here, on the host: the image needs no build tools.
SOURCE_DATE_EPOCH=315532800 python3 -m pip wheel --quiet --no-deps \
    --wheel-dir "${STAGING}" "${KIOSK_SRC}"

on_chroot <<'CHROOT'
bash /tmp/kiosk-src/provisioning/install.sh --boot /boot/firmware \
    --wheel "$(ls /tmp/kiosk-src/bangtin_kiosk-*.whl)"
CHROOT
rm -rf "${STAGING}"
