#!/usr/bin/env bash
# Checks a bundle of gpu/bundle.sh as the GPU machine will use it, on this machine's CPU: in a
# bare Debian root (debootstrap's minbase and xz-utils: no MPI, OpenBLAS, Swift or Python),
# unpacked from its .tar.xz, `gpu/checks.sh --device cpu --quick` must pass every check.
#
#   gpu/bundle-test.sh [--bundle FILE.tar.xz] [--root DIR] [-- checks.sh arguments]
#
# The root (default .build-gpu/debian-root) is made once and kept; the checks' log and table
# land in .build-gpu/bundle-test-results. Needs root (chroot, mounts).
set -euo pipefail
cd "$(dirname "$0")/.."
REPO=$(pwd)
BUNDLE=.build-gpu/bundle.tar.xz
ROOTFS=.build-gpu/debian-root
CHECK_ARGS=(--device cpu --quick)
fail() { echo "error: gpu/bundle-test.sh: $*" >&2; exit 64; }
while [ $# -gt 0 ]; do
    case "$1" in
        --bundle) [ $# -ge 2 ] || fail "--bundle needs a file"; BUNDLE=$2; shift 2 ;;
        --root) [ $# -ge 2 ] || fail "--root needs a directory"; ROOTFS=$2; shift 2 ;;
        --) shift; CHECK_ARGS=("$@"); break ;;
        -h|--help) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) fail "unknown option '$1' (see gpu/bundle-test.sh --help)" ;;
    esac
done
[ "$(id -u)" -eq 0 ] || fail "needs root (chroot and mounts)"
[ -f "$BUNDLE" ] || fail "$BUNDLE does not exist: make it with gpu/bundle.sh"

# A root is used once debootstrap finished it (the marker), never half-made.
if [ ! -f "$ROOTFS/.sprig-root-complete" ]; then
    # Our own folder is made anew; any other that is not empty is never removed for us.
    if [ "$ROOTFS" = .build-gpu/debian-root ]; then rm -rf "$ROOTFS"
    elif [ -n "$(ls -A "$ROOTFS" 2>/dev/null)" ]; then
        fail "--root $ROOTFS is not empty and holds no finished root of this script: remove it or name another"
    fi
    tools/install-packages.sh --as gpu/bundle-test.sh debootstrap
    # The suite and mirror this machine's apt uses.
    . /etc/os-release
    mirror=$(cat /etc/apt/sources.list.d/* /etc/apt/sources.list 2>/dev/null | grep -E '^(URIs:|deb )' | grep -v security \
             | grep -o -m1 'https\?://[^ ]*' || true)
    debootstrap --variant=minbase --include=xz-utils "${VERSION_CODENAME:-bookworm}" "$ROOTFS" "${mirror:-http://deb.debian.org/debian}" > .build-gpu/debootstrap.log 2>&1 \
        || fail "debootstrap failed (see .build-gpu/debootstrap.log)"
    touch "$ROOTFS/.sprig-root-complete"
fi

# What the checks read from the repository, and the packed bundle, copied in.
inside=$ROOTFS/repo
rm -rf "$inside"
mkdir -p "$inside/Tests/Fixtures" "$inside/bench" "$inside/.build-gpu"
cp -r gpu "$inside/"
cp bench/challenge_peers.py "$inside/bench/"
cp -r Tests/Fixtures/graph-challenge "$inside/Tests/Fixtures/"
cp "$BUNDLE" "$inside/.build-gpu/bundle.tar.xz"

# In a mount namespace of its own, so /proc, /sys, /dev and /dev/shm go when it ends.
status=0
unshare --mount --fork bash -c '
    set -e
    root=$1; shift
    mount -t proc proc "$root/proc"
    mount -t sysfs sysfs "$root/sys"
    mount --rbind /dev "$root/dev"
    mount -t tmpfs tmpfs "$root/dev/shm"
    mount -t tmpfs tmpfs "$root/tmp"
    exec chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
        /bin/bash /repo/gpu/checks.sh --bundle /repo/.build-gpu/bundle.tar.xz --results /repo/results "$@"
' _ "$ROOTFS" "${CHECK_ARGS[@]}" || status=$?
rm -rf .build-gpu/bundle-test-results
cp -r "$inside/results" .build-gpu/bundle-test-results 2>/dev/null || true
echo "gpu/bundle-test.sh: checks.sh exited $status in a bare $(cat "$ROOTFS/etc/debian_version") root; log in .build-gpu/bundle-test-results/checks.log"
exit $status
