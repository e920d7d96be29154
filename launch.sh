#!/usr/bin/env bash
# Sprig's one entry point. On a fresh Debian machine it installs the packages Sprig needs,
# builds in release mode and runs:
#   ./launch.sh                         train the default sparse MLP on Fashion-MNIST
#   ./launch.sh -- train --epochs 3     run `sprig` with these arguments
#   ./launch.sh --test                  build and run the test suite
set -euo pipefail
cd "$(dirname "$0")"

PACKAGES=(libopenmpi-dev openmpi-bin libopenblas-dev zlib1g-dev dataset-fashion-mnist)
mode=run
sprig_args=()

usage() {
    sed -n '2,7p' "$0" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
    case "$1" in
        --test) mode=test; shift ;;
        -h|--help) usage; exit 0 ;;
        --) shift; sprig_args=("$@"); break ;;
        *) echo "error: launch.sh: unknown option '$1' (see ./launch.sh --help)" >&2; exit 64 ;;
    esac
done

# Installs whichever of PACKAGES is missing (apt-get; sudo when not root).
install_packages() {
    local missing=()
    for p in "${PACKAGES[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "launch.sh: installing ${missing[*]}" >&2
    local sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

install_packages
command -v swift >/dev/null || { echo "error: launch.sh: swift is not on PATH (Swift 6 toolchain needed)" >&2; exit 69; }

if [ "$mode" = test ]; then
    # Release build: the kernels are too slow unoptimised; -enable-testing for @testable.
    swift build -c release -Xswiftc -enable-testing --build-tests --scratch-path .build-test
    exec swift test -c release -Xswiftc -enable-testing --skip-build --scratch-path .build-test --disable-swift-testing
fi

swift build -c release
[ ${#sprig_args[@]} -gt 0 ] || sprig_args=(train)
exec .build/release/sprig "${sprig_args[@]}"
