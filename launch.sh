#!/usr/bin/env bash
# Sprig's one entry point. On a fresh Debian machine it installs the packages Sprig needs,
# builds in release mode and runs sprig under mpirun:
#   ./launch.sh                                 train the default model on Fashion-MNIST with 2 ranks
#   ./launch.sh -np 4 -- train --epochs 3       4 ranks, these sprig arguments
#   ./launch.sh -np 8 --hostfile hostfiles/two-nodes -- train ...
#   ./launch.sh --test                          build and run the test suite only (no training); its status
# Options: -np N (ranks, 1..1000000, default 2), --hostfile FILE (a relative path is taken from
# where you stand), --oversubscribe (more ranks than slots; added by itself when N exceeds the
# slots), --dry-run (print the install, build and mpirun commands, or with --test the test
# commands, and run none of them), --verbose (show the build's output as it runs; by default a
# build prints one line, and its output only when it fails).
# A hostfile naming any other host gets a portable build (.build-portable, SPRIG_TARGET_CPU
# x86-64-v3 or generic on AArch64) so that nodes with other CPUs run it too; one line says
# which host. The hosts of cluster/netns-up.sh's namespaces on this machine are this machine.
set -euo pipefail
caller=$PWD   # a relative --hostfile is the caller's: resolved against this, not the repository
cd "$(dirname "$0")"
ROOT=$(pwd)

PACKAGES=(libopenmpi-dev openmpi-bin libopenblas-dev zlib1g-dev dataset-fashion-mnist iproute2 procps python3-venv)
# What the tests use besides: independent readers and writers (gzip, NumPy and SciPy, the
# latter only when the python3 on PATH cannot import them already), hostname, /usr/bin/time (peak memory).
# The Slurm tests' local cluster (cluster/slurm/local-up.sh): Slurm's daemons and clients,
# munge, slurmdbd over MariaDB (sacct), PMIx (srun --mpi=pmix).
# The GPU bundle's test (gpu/): xz packs the bundle, debootstrap makes the bare root it runs in.
TEST_PACKAGES=(gzip hostname coreutils time util-linux slurmctld slurmd slurm-client slurmdbd munge mariadb-server mariadb-client libpmix2
               xz-utils debootstrap)
python3 -c "import numpy, scipy.sparse" >/dev/null 2>&1 || TEST_PACKAGES+=(python3 python3-numpy python3-scipy)
mode=run
ranks=2
hostfile=""
oversubscribe=0
dry_run=0
verbose=0
sprig_args=()

usage() { awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "$0"; }
fail() { echo "error: launch.sh: $*" >&2; exit 64; }

while [ $# -gt 0 ]; do
    case "$1" in
        --test) mode=test; shift ;;
        -np|-n|--np) [ $# -ge 2 ] || fail "$1 needs a number"; ranks=$2; shift 2 ;;
        --hostfile) [ $# -ge 2 ] && [ -n "$2" ] || fail "--hostfile needs a file"; hostfile=$2; shift 2 ;;
        --oversubscribe) oversubscribe=1; shift ;;
        --dry-run) dry_run=1; shift ;;
        --verbose) verbose=1; shift ;;
        -h|--help) usage; exit 0 ;;
        --) shift; sprig_args=("$@"); break ;;
        *) fail "unknown option '$1' (see ./launch.sh --help)" ;;
    esac
done
# The digits are checked before any arithmetic (bash's integers wrap at 2^63).
[[ "$ranks" =~ ^[1-9][0-9]{0,6}$ ]] && [ "$ranks" -le 1000000 ] || fail "-np takes a number of ranks from 1 to 1000000, not '$ranks'"

# The slots a hostfile offers: the sum of slots=N (1 for a host line without it); a slots
# value that is not a number 0..1000000 is printed (line and field) with status 1.
hostfile_slots() {
    awk '{ sub(/#.*/, "") } NF { n = 1; for (i = 2; i <= NF; i++) if ($i ~ /^slots=/) { v = substr($i, 7)
             if (v !~ /^[0-9]+$/ || length(v) > 7 || v + 0 > 1000000) { print "line " NR ": " $i; bad = 1; exit }
             n = v + 0 } s += n }
         END { if (bad) exit 1; print s + 0 }' "$1"
}
if [ -n "$hostfile" ]; then
    case $hostfile in /*) ;; *) hostfile=$caller/$hostfile ;; esac
    [ -e "$hostfile" ] || fail "hostfile '$hostfile' not found"
    [ ! -d "$hostfile" ] || fail "hostfile '$hostfile' is a directory, not a file"
    [ -f "$hostfile" ] || fail "hostfile '$hostfile' is not a regular file"
    [ -r "$hostfile" ] || fail "hostfile '$hostfile' cannot be read"
    slots=$(hostfile_slots "$hostfile" 2>/dev/null) || fail "hostfile '$hostfile': ${slots:-cannot be read}: slots must be a number from 0 to 1000000"
    [[ "$slots" =~ ^[0-9]{1,15}$ ]] || fail "hostfile '$hostfile' offers too many slots ($slots)"
    [ "$slots" -gt 0 ] || fail "hostfile '$hostfile' lists no hosts"
fi

# With --dry-run a step is printed ("# what: " and the command, shell-quoted) instead of run.
step() {
    local what=$1; shift
    if [ $dry_run -eq 1 ]; then printf '# %s: ' "$what"; printf '%q ' "$@"; echo; else "$@"; fi
}

# A build: with --dry-run printed as a step; with --verbose run as it is; otherwise one line,
# the output kept in a file and shown only when the build fails (then its status ends the script).
build_step() {
    local what=$1; shift
    if [ $dry_run -eq 1 ] || [ $verbose -eq 1 ]; then step build "$@"; return; fi
    echo "launch.sh: building $what… (--verbose shows the output)" >&2
    local log status=0
    log=$(mktemp "${TMPDIR:-/tmp}/sprig-build.XXXXXX")
    "$@" > "$log" 2>&1 || status=$?
    if [ $status -ne 0 ]; then
        cat "$log" >&2; rm -f "$log"
        echo "error: launch.sh: the build failed (status $status): $*" >&2
        exit $status
    fi
    rm -f "$log"
}

if [ "$mode" = test ]; then packages=("${PACKAGES[@]}" "${TEST_PACKAGES[@]}"); else packages=("${PACKAGES[@]}"); fi
step install tools/install-packages.sh --as launch.sh "${packages[@]}"
[ $dry_run -eq 1 ] || command -v swift >/dev/null || { echo "error: launch.sh: swift is not on PATH (a Swift 6 toolchain is needed)" >&2; exit 69; }

# The test suite, and nothing else: a failing step ends the script with its status (set -e).
run_tests() {
    # Release build: the kernels are too slow unoptimised; -enable-testing for @testable.
    build_step "sprig and its tests (release)" swift build -c release -Xswiftc -enable-testing --build-tests --scratch-path .build-test
    # NVRTC (CUDA's run-time compiler, no GPU needed) from PyPI, so the device kernels' compile
    # test runs; where pip cannot get it, that one test skips with the reason.
    local nvrtc=.build-test/nvrtc-venv
    if [ -z "${SPRIG_CUDA_LIBRARY_PATH:-}" ]; then
        if [ $dry_run -eq 1 ]; then
            echo "# nvrtc (unless $nvrtc exists): python3 -m venv $nvrtc && $nvrtc/bin/pip install -q nvidia-cuda-nvrtc"
        elif [ -d "$nvrtc" ] || { python3 -m venv "$nvrtc" && "$nvrtc/bin/pip" install -q nvidia-cuda-nvrtc; } >/dev/null 2>&1; then
            SPRIG_CUDA_LIBRARY_PATH=$(dirname "$(find "$nvrtc" -name 'libnvrtc.so*' | head -1)" 2>/dev/null || true)
            export SPRIG_CUDA_LIBRARY_PATH
        else
            echo "note: could not install nvidia-cuda-nvrtc with pip: the NVRTC compile test will skip" >&2
        fi
    fi
    step test swift test -c release -Xswiftc -enable-testing --skip-build --scratch-path .build-test --disable-swift-testing
    # The Python package's tests (python/tests) against the library just built, in a virtual
    # environment over the system's NumPy and SciPy, with pytest and mpi4py from pip.
    local pyvenv=.build-test/python-venv
    if [ $dry_run -eq 1 ]; then
        echo "# python (unless $pyvenv has them): python3 -m venv --system-site-packages $pyvenv && $pyvenv/bin/pip install -q pytest mpi4py"
    elif ! "$pyvenv/bin/python" -c 'import pytest, mpi4py, numpy, scipy' >/dev/null 2>&1; then
        { python3 -m venv --system-site-packages "$pyvenv" && "$pyvenv/bin/pip" install -q pytest mpi4py; } >/dev/null 2>&1 ||
            { echo "error: launch.sh: could not install pytest and mpi4py for the Python tests (pip)" >&2; exit 1; }
    fi
    step test env "SPRIG_LIBRARY=$PWD/.build-test/release/libSprigC.so" "PYTHONPATH=$PWD/python" "$pyvenv/bin/python" -m pytest -q python/tests
    # The package as users install it: `pip install ./python` builds the library (release) into
    # it; a short fit from another folder must find and use that copy.
    step test "$pyvenv/bin/pip" install -q ./python
    if [ $dry_run -eq 1 ]; then
        echo "# test: (cd /tmp && $ROOT/$pyvenv/bin/python -c '<import sprig from where pip put it; a 1-epoch fit>')"
    else
        (cd /tmp && env -u SPRIG_LIBRARY -u PYTHONPATH "$ROOT/$pyvenv/bin/python" -c '
import os, sprig
assert os.path.exists(os.path.join(os.path.dirname(sprig.__file__), "libSprigC.so")), sprig.__file__
(x, y), _ = sprig.datasets.fashion_mnist()
history = sprig.MLP([784, 64, 10], overall_density=0.2).fit(x[:1000], y[:1000], epochs=1, threads=1)
print("pip install ./python: sprig", sprig.__version__, "from", os.path.dirname(sprig.__file__), "trains:", len(history), "epoch")')
    fi
    # The bundle for GPU machines without a toolchain (gpu/): built, then checked on the CPU in
    # a bare Debian root that has none of the packages above (chroot and mounts: root only).
    if [ "$(id -u)" -eq 0 ]; then
        if [ $dry_run -eq 1 ]; then echo "# test: gpu/bundle.sh --with-fashion-mnist | tail -2"; else gpu/bundle.sh --with-fashion-mnist | tail -2; fi
        step test gpu/bundle-test.sh
    else
        echo "note: the GPU bundle's test needs root (chroot): skipped" >&2
    fi
}
# --test runs the tests only: it never goes on to train.
if [ "$mode" = test ]; then run_tests; exit 0; fi

# The first host of the hostfile that is not this machine (by name or address), printed; status
# 1 when there is none. The hosts of cluster/netns-up.sh (namespaces sprig-h<i> at 10.213.47.<10+i>,
# listed in /run/sprig-netns/hosts) share this machine's CPU: they are this machine while their
# namespace exists here.
NETNS_HOSTS=/run/sprig-netns/hosts
other_host() {
    local here=" localhost localhost.localdomain 127.0.0.1 ::1 $(hostname 2>/dev/null) $(hostname -s 2>/dev/null) $(hostname -f 2>/dev/null) $(hostname -I 2>/dev/null) "
    local host ns
    for host in $(awk '{ sub(/#.*/, "") } NF { print $1 }' "$1"); do
        case "$here" in *" $host "*) continue ;; esac
        ns=$(awk -v h="$host" '$1 == h || $2 == h { print $2; exit }' "$NETNS_HOSTS" 2>/dev/null)
        [ -n "$ns" ] && [ -e "/run/netns/$ns" ] && continue
        echo "$host"; return 0
    done
    return 1
}

# A binary built for this CPU (-march=native) dies of SIGILL on a node whose CPU lacks one of
# its instructions: across other hosts, build for a portable target in a build directory of its own.
build=(swift build -c release)
binary="$ROOT/.build/release/sprig"
if [ -n "$hostfile" ] && elsewhere=$(other_host "$hostfile"); then
    case "$(uname -m)" in x86_64) portable=x86-64-v3 ;; *) portable=generic ;; esac
    export SPRIG_TARGET_CPU="${SPRIG_TARGET_CPU:-$portable}"
    build=(env "SPRIG_TARGET_CPU=$SPRIG_TARGET_CPU" swift build -c release --scratch-path "$ROOT/.build-portable")
    binary="$ROOT/.build-portable/release/sprig"
    hint=""
    case $elsewhere in 10.213.47.*|sprig-h[0-9]*) hint=" (a host of cluster/netns-up.sh, whose namespace is not up here: start it first and no portable build is needed)" ;; esac
    echo "launch.sh: host $elsewhere of the hostfile is not this machine: a portable build for its CPU (SPRIG_TARGET_CPU=$SPRIG_TARGET_CPU, in .build-portable)$hint" >&2
fi
build_step "sprig (release${SPRIG_TARGET_CPU:+, $SPRIG_TARGET_CPU})" "${build[@]}"
[ ${#sprig_args[@]} -gt 0 ] || sprig_args=(train)

cores=$(nproc)
mpi=(mpirun -np "$ranks")
[ "$(id -u)" -eq 0 ] && { mpi+=(--allow-run-as-root); export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1; }
if [ -n "$hostfile" ]; then
    mpi+=(--hostfile "$hostfile")   # its slots were counted above
else
    slots=$cores
fi
if [ $oversubscribe -eq 1 ] || [ "$ranks" -gt "$slots" ]; then
    mpi+=(--oversubscribe --bind-to none)
elif [ -z "$hostfile" ]; then
    # One node: each rank gets cores/ranks cores of its own, its threads stay on them.
    per_rank=$(( cores / ranks )); [ $per_rank -ge 1 ] || per_rank=1
    mpi+=(--map-by "slot:PE=$per_rank" --bind-to core)
else
    mpi+=(--map-by slot --bind-to none)
fi
# What the ranks need from this environment (remote ranks get it through mpirun).
for v in PATH LD_LIBRARY_PATH OPENBLAS_CORETYPE; do [ -n "${!v:-}" ] && mpi+=(-x "$v"); done
# Extra mpirun arguments, e.g. SPRIG_MPIRUN_ARGS="--mca btl_tcp_if_include 10.0.0.0/24".
read -r -a extra <<< "${SPRIG_MPIRUN_ARGS:-}"
mpi+=("${extra[@]}")
cmd=("${mpi[@]}" "$binary" "${sprig_args[@]}")
if [ $dry_run -eq 1 ]; then printf '%q ' "${cmd[@]}"; echo; exit 0; fi
exec "${cmd[@]}"
