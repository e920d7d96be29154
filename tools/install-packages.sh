#!/usr/bin/env bash
# Installs whichever of the named Debian packages is missing, with apt-get (through sudo when
# not root); the one installer of launch.sh, cluster/slurm/local-up.sh and gpu/.
#
#   tools/install-packages.sh [--as NAME] [--no-service-start] PACKAGE…
#
# --as NAME      the name its messages start with (default install-packages.sh)
# --no-service-start   packages' own services are not started (policy-rc.d 101), as for the
#                local Slurm cluster, which starts munge and MariaDB its own way
# Prints "NAME: installing …" when it installs anything; a failed install ends with one
# `error:` line and status 1.
set -euo pipefail
name=install-packages.sh
no_services=0
while [ $# -gt 0 ]; do
    case "$1" in
        --as) [ $# -ge 2 ] || { echo "error: install-packages.sh: --as needs a name" >&2; exit 64; }; name=$2; shift 2 ;;
        --no-service-start) no_services=1; shift ;;
        *) break ;;
    esac
done
missing=()
for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "$name: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -eq 0 ] || sudo=sudo
policy=/usr/sbin/policy-rc.d
if [ $no_services -eq 1 ]; then
    # A policy the machine has already (container images often do) is put back afterwards.
    saved=""
    if [ -e "$policy" ]; then saved=$policy.sprig-saved; $sudo mv "$policy" "$saved"; fi
    printf '#!/bin/sh\nexit 101\n' | $sudo tee "$policy" >/dev/null && $sudo chmod +x "$policy"
    trap '$sudo rm -f "$policy"; [ -z "$saved" ] || $sudo mv "$saved" "$policy"' EXIT
fi
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null \
    || { echo "error: $name: could not install ${missing[*]} with apt-get" >&2; exit 1; }
