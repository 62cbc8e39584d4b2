#!/usr/bin/env bash
# Build a bootable x86-64 board image, for QEMU: the same root file system a Raspberry Pi
# board gets (provisioning/install.sh, as the pi-gen stage runs it), on a disk laid out as
# a Pi's SD card.
#
#   sudo provisioning/image/build.sh OUT.img
#
# Partition 1: the FAT boot partition (/boot/firmware), with config.txt and cmdline.txt as
# on a Pi, and the kernel, its initramfs and SYSLINUX (what the Pi's firmware does).
# Partition 2: the ext4 root. The MBR boots by itself: qemu-system-x86_64 -drive
# file=OUT.img,format=raw,if=virtio. Needs root, debootstrap, mkfs.vfat, mtools, sfdisk,
# mkfs.ext4, syslinux; reaches only the Debian mirror the host's apt uses, and PyPI.
# What differs from a Pi, and why, is in provisioning/image/README.md.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SOURCE="$(cd "$HERE/../.." && pwd)"
SUITE=bookworm
DISK_ID=4e639091   # a Pi image's own: root=PARTUUID=4e639091-02
BOOT_MB=256
# Raspberry Pi OS Lite's base, then what stands in for the Pi's own hardware and firmware:
# a PC kernel, and the guest agent through which tests/test_boot.py looks inside.
# NetworkManager comes by apt in the chroot: its polkitd does not configure under debootstrap.
BASE=systemd,systemd-sysv,passwd,udev,kmod,dbus,dosfstools,iproute2,procps
PACKAGES=(network-manager)
VM_ONLY=(linux-image-amd64 initramfs-tools qemu-guest-agent)

say() { printf 'build.sh: %s\n' "$*"; }
die() { printf 'build.sh: error: %s\n' "$*" >&2; exit 2; }

[ $# -eq 1 ] || { sed -n '2,12p' "$0"; exit 2; }
OUT="$1"
[ "$(id -u)" -eq 0 ] || die "run as root (sudo $0 $OUT)"
export PATH="$PATH:/usr/sbin:/sbin"
for tool in debootstrap:debootstrap mkfs.vfat:dosfstools mcopy:mtools sfdisk:fdisk \
    mkfs.ext4:e2fsprogs syslinux:syslinux unshare:util-linux; do
    command -v "${tool%%:*}" >/dev/null || die "${tool%%:*} is missing: apt install ${tool#*:}"
done
MBR_BIN=/usr/lib/syslinux/mbr/mbr.bin
[ -f "$MBR_BIN" ] || die "$MBR_BIN is missing: apt install syslinux-common"

mirror() { # the Debian archive the host's apt uses (a build host may reach no other)
    local file
    for file in /etc/apt/sources.list.d/debian.sources /etc/apt/sources.list; do
        [ -f "$file" ] || continue
        awk '($1 == "URIs:" || $1 == "deb") && !/security/ { print $2; exit }' "$file" |
            grep . && return
    done
    echo http://deb.debian.org/debian
}
MIRROR="${KIOSK_MIRROR:-$(mirror)}"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/kiosk-image.XXXXXX")"
ROOT="$WORK/root"
trap 'rm -rf "$WORK"' EXIT
started=$SECONDS

in_root() { # in_root COMMAND...: with /dev, /proc and /sys in a private mount namespace
    # shellcheck disable=SC2016  # expanded by the inner sh, from its own arguments
    unshare --mount --propagation private -- sh -c \
        'mount --rbind /dev "$0/dev" && mount -t proc proc "$0/proc" &&
         mount -t sysfs sys "$0/sys" && exec chroot "$0" /usr/bin/env -i \
         PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
         LANG=C.UTF-8 PIP_CERT=/tmp/host-ca.crt DEBIAN_FRONTEND=noninteractive "$@"' "$ROOT" "$@"
}
# The build host's apt settings (its proxy, say), in the chroot for the build only.
with_host_apt() {
    local conf
    : >"$WORK/apt-added"
    for conf in /etc/apt/apt.conf.d/*; do
        [ -e "$ROOT/etc/apt/apt.conf.d/$(basename "$conf")" ] && continue
        cp "$conf" "$ROOT/etc/apt/apt.conf.d/" && basename "$conf" >>"$WORK/apt-added"
    done
}
without_host_apt() {
    local conf
    while read -r conf; do rm -f "$ROOT/etc/apt/apt.conf.d/$conf"; done <"$WORK/apt-added"
}

# A small initramfs with what mounts the root on QEMU's virtio disk (all of Debian's modules
# take the kernel seconds to unpack under emulation), and fsck for the root in it. In place
# before the kernel is installed, so that its initramfs is made once.
small_initramfs() {
    install -d "$ROOT/etc/initramfs-tools/conf.d" "$ROOT/etc/initramfs-tools/hooks"
    printf 'MODULES=list\nFSTYPE=ext4\n' >"$ROOT/etc/initramfs-tools/conf.d/board-vm.conf"
    cat >"$ROOT/etc/initramfs-tools/hooks/board-vm" <<'HOOK'
#!/bin/sh
# The board image for QEMU (provisioning/image/build.sh): the root is on a virtio disk.
case "$1" in prereqs) exit 0 ;; esac
. /usr/share/initramfs-tools/hook-functions
manual_add_modules virtio_pci virtio_blk ext4 crc32c_generic crc32c_intel
HOOK
    chmod 0755 "$ROOT/etc/initramfs-tools/hooks/board-vm"
}

# The root file system. A tarball of debootstrap's result may be kept between builds
# (KIOSK_IMAGE_CACHE, a folder): the packages are the same until the suite changes.
tarball=""
[ -z "${KIOSK_IMAGE_CACHE:-}" ] || tarball="$KIOSK_IMAGE_CACHE/debootstrap-$SUITE-$(echo "2 $BASE ${PACKAGES[*]} ${VM_ONLY[*]}" | sha256sum | cut -c1-12).tgz"
if [ -n "$tarball" ] && [ -f "$tarball" ]; then
    say "debootstrap: from $tarball"
    mkdir "$ROOT" && tar -xzf "$tarball" -C "$ROOT"
else
    say "debootstrap $SUITE from $MIRROR"
    debootstrap --variant=minbase --include="$BASE" "$SUITE" "$ROOT" "$MIRROR" \
        >"$WORK/debootstrap.log" 2>&1 || { tail -20 "$WORK/debootstrap.log" >&2; die "debootstrap failed"; }
    small_initramfs
    with_host_apt
    in_root apt-get update -qq
    in_root apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" "${VM_ONLY[@]}" \
        >"$WORK/apt.log" 2>&1 || { tail -20 "$WORK/apt.log" >&2; die "apt-get install failed"; }
    without_host_apt
    if [ -n "$tarball" ]; then
        mkdir -p "$KIOSK_IMAGE_CACHE"
        tar -czf "$tarball.part" -C "$ROOT" . && mv "$tarball.part" "$tarball"
    fi
fi

# The boot partition's files as a Pi has them, before install.sh edits them.
PI_CMDLINE="console=serial0,115200 console=tty1 root=PARTUUID=$DISK_ID-02 rootfstype=ext4 fsck.repair=yes rootwait quiet"
install -d "$ROOT/boot/firmware"
printf '%s\n' "$PI_CMDLINE" >"$ROOT/boot/firmware/cmdline.txt"
cat >"$ROOT/boot/firmware/config.txt" <<'CONFIG'
# For more options and information see http://rptl.io/configtxt
# (On this x86-64 image nothing reads this file but the kiosk's tools: see
# provisioning/image/README.md.)
dtoverlay=vc4-kms-v3d
max_framebuffers=2
disable_fw_kms_setup=1
arm_64bit=1
disable_overscan=1
CONFIG
cat >"$ROOT/etc/fstab" <<FSTAB
proc            /proc           proc    defaults          0       0
PARTUUID=$DISK_ID-01  /boot/firmware  vfat    defaults          0       2
PARTUUID=$DISK_ID-02  /               ext4    defaults,noatime  0       1
FSTAB
echo raspberrypi >"$ROOT/etc/hostname"
: >"$ROOT/etc/machine-id"  # made at the first boot, as on a Pi image

# install.sh, in the chroot, as the pi-gen stage runs it: the wheel is built here.
STAGING="$ROOT/tmp/kiosk-src"
install -d "$STAGING"
cp -a "$SOURCE/provisioning" "$SOURCE/systemd" "$STAGING/"
SOURCE_DATE_EPOCH=315532800 python3 -m pip wheel --quiet --no-deps --wheel-dir "$STAGING" "$SOURCE"
with_host_apt
cp "${PIP_CERT:-/etc/ssl/certs/ca-certificates.crt}" "$ROOT/tmp/host-ca.crt"

say "install.sh in the chroot"
wheels=("$STAGING"/bangtin_kiosk-*.whl)
in_root bash /tmp/kiosk-src/provisioning/install.sh --boot /boot/firmware \
    --wheel "/tmp/kiosk-src/$(basename "${wheels[0]}")"

# What the virtual machine needs and a Pi does not (README.md says why).
install -d "$ROOT/etc/systemd/system/kiosk.service.d"
cp "$HERE/vm.conf" "$ROOT/etc/systemd/system/kiosk.service.d/vm.conf"

# Leave nothing of the build in the image.
rm -rf "$STAGING" "$ROOT/tmp/host-ca.crt" "$ROOT/root/.cache"
without_host_apt
in_root apt-get clean
rm -rf "$ROOT"/var/lib/apt/lists/* "$ROOT"/var/log/*.log "$ROOT"/var/log/apt/*

# The boot partition: what the Pi's firmware reads, and what SYSLINUX boots here.
kernel="$(find "$ROOT/boot" -maxdepth 1 -name 'vmlinuz-*' -printf '%f\n' | sort -V | tail -1)"
cp "$ROOT/boot/$kernel" "$ROOT/boot/firmware/vmlinuz"
cp "$ROOT/boot/initrd.img-${kernel#vmlinuz-}" "$ROOT/boot/firmware/initrd.img"
# SYSLINUX's kernel line is cmdline.txt's as built (kernel parameters added later by
# kiosk provision are a Pi's, for its HDMI output, and need not reach this kernel).
cat >"$ROOT/boot/firmware/syslinux.cfg" <<SYSLINUX
DEFAULT board
PROMPT 0
TIMEOUT 0
LABEL board
  KERNEL /vmlinuz
  INITRD /initrd.img
  APPEND $(sed 's/console=serial0,115200/console=ttyS0,115200/' "$ROOT/boot/firmware/cmdline.txt")
SYSLINUX

say "file systems"
BOOT_IMG="$WORK/boot.img"
ROOT_IMG="$WORK/root.img"
truncate -s "${BOOT_MB}M" "$BOOT_IMG"
mkfs.vfat -F 32 -n bootfs -i "$DISK_ID" "$BOOT_IMG" >/dev/null
mcopy -s -i "$BOOT_IMG" "$ROOT"/boot/firmware/* ::/
syslinux --install "$BOOT_IMG"
rm -rf "${ROOT:?}"/boot/firmware/*
used_mb=$(du -sm "$ROOT" | cut -f1)
root_mb=$(( used_mb + 768 ))   # room for the content cache and the journal
truncate -s "${root_mb}M" "$ROOT_IMG"
mkfs.ext4 -q -L rootfs -d "$ROOT" "$ROOT_IMG"

say "disk"
start2=$(( 8192 + BOOT_MB * 2048 ))
rm -f "$OUT"
truncate -s "$(( (start2 + root_mb * 2048) * 512 ))" "$OUT"
sfdisk --quiet "$OUT" <<PARTITIONS
label: dos
label-id: 0x$DISK_ID
start=8192, size=$(( BOOT_MB * 2048 )), type=c, bootable
start=$start2, size=$(( root_mb * 2048 )), type=83
PARTITIONS
dd if="$MBR_BIN" of="$OUT" bs=440 count=1 conv=notrunc status=none
dd if="$BOOT_IMG" of="$OUT" bs=1M seek=4 conv=notrunc,sparse status=none
dd if="$ROOT_IMG" of="$OUT" bs=512 seek="$start2" conv=notrunc,sparse status=none
say "$OUT: $(( (start2 + root_mb * 2048) / 2048 )) MB, built in $(( SECONDS - started )) s"
