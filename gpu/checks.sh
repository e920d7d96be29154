#!/usr/bin/env bash
# Issue 13's checks and rates on a GPU machine, in one call, from a bundle of gpu/bundle.sh:
#
#   gpu/checks.sh [--bundle DIR|FILE.tar.xz] [--device gpu|cpu] [--cases "N:M …"]
#                 [--layers L] [--budget S] [--results DIR] [--work DIR] [--quick]
#
# 1. what a GPU rank would use (sprig gpu-info);
# 2. the challenge's real data (1024 × 120, its first 1200 inputs) on --device against the truth
#    file, and with --device auto, with two ranks under mpirun on that device, and with one
#    rank on it and one on the CPU (MPMD): all must PASS;
# 3. for each case N:M, a RadiX-Net of N neurons × L layers (default 120) with M Fashion-MNIST
#    inputs (challenge generate): the categories on --device must equal the CPU engine's, and
#    PyTorch's (CSR × dense, on CUDA when --device gpu) where python3 has torch; rates of all
#    three, the device's the fastest of 3 passes, against the published ones. Cases go in the
#    order given; none starts after --budget seconds (default 420: the device tool's command
#    limit is 600), so the table is complete for those that ran.
# --device cpu rehearses every step on the CPU, on a machine without a GPU (gpu/bundle-test.sh).
# Every command and its output go to DIR/checks.log, the table to DIR/results.md (DIR: $OUT
# when set, as on the device tool's machine, else .build-gpu/results); exit 1 if any check failed.
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
REPO=$(dirname "$HERE")

BUNDLE=$REPO/.build-gpu/bundle.tar.xz
DEVICE=gpu
CASES="1024:60000 4096:60000 16384:20000 65536:4000"
LAYERS=120
BUDGET=420
RESULTS=${OUT:-$REPO/.build-gpu/results}
WORK=${TMPDIR:-/tmp}/sprig-gpu-checks
fail() { echo "error: gpu/checks.sh: $*" >&2; exit 64; }
while [ $# -gt 0 ]; do
    case "$1" in
        --bundle) [ $# -ge 2 ] || fail "--bundle needs a path"; BUNDLE=$2; shift 2 ;;
        --device) [ $# -ge 2 ] || fail "--device needs gpu or cpu"; DEVICE=$2; shift 2 ;;
        --cases) [ $# -ge 2 ] || fail "--cases needs \"N:M …\""; CASES=$2; shift 2 ;;
        --layers) [ $# -ge 2 ] || fail "--layers needs a number"; LAYERS=$2; shift 2 ;;
        --budget) [ $# -ge 2 ] || fail "--budget needs seconds"; BUDGET=$2; shift 2 ;;
        --results) [ $# -ge 2 ] || fail "--results needs a directory"; RESULTS=$2; shift 2 ;;
        --work) [ $# -ge 2 ] || fail "--work needs a directory"; WORK=$2; shift 2 ;;
        --quick) CASES="1024:2000 4096:500"; LAYERS=24; shift ;;
        -h|--help) sed -n '2,22p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) fail "unknown option '$1' (see gpu/checks.sh --help)" ;;
    esac
done
case "$DEVICE" in gpu|cpu) ;; *) fail "--device takes gpu or cpu, not '$DEVICE'" ;; esac
[[ "$LAYERS" =~ ^[1-9][0-9]*$ ]] || fail "--layers takes a positive number, not '$LAYERS'"
[[ "$BUDGET" =~ ^[0-9]+$ ]] || fail "--budget takes a number of seconds, not '$BUDGET'"
for c in $CASES; do [[ "$c" =~ ^[0-9]+:[1-9][0-9]*$ ]] || fail "a case is N:M (neurons:inputs), not '$c'"; done

mkdir -p "$RESULTS" "$WORK" || fail "cannot create $RESULTS or $WORK"
LOG=$RESULTS/checks.log
TABLE=$RESULTS/results.md
: > "$LOG"
FAILED=0
say() { echo "$*" | tee -a "$LOG"; }
LAST=$RESULTS/last.out
# run NAME CMD…: runs a command, its output to $LAST and the log, and notes its seconds;
# returns its status.
run() {
    local name=$1; shift
    echo "\$ $*" >> "$LOG"
    local start=$SECONDS
    "$@" > "$LAST" 2>&1
    local status=$?
    cat "$LAST" >> "$LOG"
    say "  $name: exit $status, $((SECONDS - start)) s"
    return $status
}
check() { if [ "$2" -eq 0 ]; then say "PASS $1"; else say "FAIL $1"; FAILED=1; fi; }

# ------------------------------------------------------------------ the bundle
if [ -f "$BUNDLE" ]; then
    packed=$BUNDLE
    # With xz where there is one, else with Python's tarfile (images without xz-utils have Python).
    rm -rf "$WORK/unpacked" && mkdir -p "$WORK/unpacked"
    if command -v xz >/dev/null; then tar -C "$WORK/unpacked" -xJf "$BUNDLE"
    else python3 -m tarfile -e "$BUNDLE" "$WORK/unpacked"; fi || fail "cannot unpack $BUNDLE (neither xz nor python3 could)"
    BUNDLE=$(dirname "$(ls "$WORK"/unpacked/*/env.sh 2>/dev/null | head -1)")
    [ -f "$BUNDLE/env.sh" ] || fail "$packed holds no bundle of gpu/bundle.sh (no */env.sh)"
fi
[ -f "$BUNDLE/env.sh" ] || fail "$BUNDLE is not a bundle of gpu/bundle.sh (no env.sh)"
# Python (PyTorch) runs with the machine's own libraries, not the bundle's (its zlib, libgfortran).
HOST_LD_LIBRARY_PATH=${LD_LIBRARY_PATH-}
host_python() { LD_LIBRARY_PATH=$HOST_LD_LIBRARY_PATH python3 "$@"; }
# shellcheck source=/dev/null
source "$BUNDLE/env.sh"
# CUDA's libraries from Python's wheels (the python3 that has torch), where no path is set.
if [ -z "${SPRIG_CUDA_LIBRARY_PATH:-}" ] && command -v python3 >/dev/null; then
    SPRIG_CUDA_LIBRARY_PATH=$(host_python -c 'import glob, sys
print(":".join(d for p in sys.path if p for d in sorted(glob.glob(p + "/nvidia/*/lib") + glob.glob(p + "/nvidia/*/lib64"))))' 2>/dev/null)
    # The driver's own folder where an image mounts it (libcuda.so.1), when the loader lacks it.
    [ -d /usr/local/nvidia/lib64 ] && SPRIG_CUDA_LIBRARY_PATH=${SPRIG_CUDA_LIBRARY_PATH:+$SPRIG_CUDA_LIBRARY_PATH:}/usr/local/nvidia/lib64
    export SPRIG_CUDA_LIBRARY_PATH
fi
export XDG_CACHE_HOME=$WORK/cache
SPRIG=$BUNDLE/bin/sprig
G=$REPO/Tests/Fixtures/graph-challenge
NP=$(nproc)
say "gpu/checks.sh: device $DEVICE, cases [$CASES] × $LAYERS layers, $NP cores, bundle $BUNDLE, results $RESULTS"
say "  CUDA library path: ${SPRIG_CUDA_LIBRARY_PATH:-(none)}"

# ------------------------------------------------------------------ 1. what a GPU rank would use
run "sprig gpu-info" "$SPRIG" gpu-info
gpu_info=$?
[ "$DEVICE" = cpu ] || check "a GPU can be used (sprig gpu-info)" $gpu_info

# ------------------------------------------------------------------ 2. the challenge's real data
REAL=(challenge run --network "$G/neuron1024" --neurons 1024 --layers 120
      --inputs "$G/sparse-images-1024-first1200.tsv.gz" --truth "$G/neuron1024-l120-categories-first1200.tsv")
run "real data, --device $DEVICE" "$SPRIG" "${REAL[@]}" --device "$DEVICE" --repeat 3
check "real data on --device $DEVICE: the 19 categories of the truth file" $?
run "real data, --device auto" "$SPRIG" "${REAL[@]}" --device auto
status=$?
if [ "$DEVICE" = gpu ] && grep -q "no GPU" "$LAST"; then status=1; fi
check "real data with --device auto (on the GPU when there is one)" $status
run "real data, 2 ranks on --device $DEVICE" mpirun -np 2 --oversubscribe "$SPRIG" "${REAL[@]}" --device "$DEVICE" --threads 1
check "2 ranks under mpirun, both on --device $DEVICE" $?
run "real data, a $DEVICE rank and a CPU rank" mpirun --oversubscribe -np 1 "$SPRIG" "${REAL[@]}" --device "$DEVICE" --threads 1 \
    : -np 1 "$SPRIG" "${REAL[@]}" --device cpu --threads 1
check "2 ranks under mpirun, one on --device $DEVICE and one on the CPU" $?

# ------------------------------------------------------------------ 3. generated networks
have_torch=0
torch_device=cpu; [ "$DEVICE" = gpu ] && torch_device=cuda
if command -v python3 >/dev/null && host_python -c "import torch, numpy; assert '$torch_device' == 'cpu' or torch.cuda.is_available()" 2>/dev/null; then
    have_torch=1
else
    say "  PyTorch peer skipped: python3 has no torch (or no CUDA for it)"
fi
# The published rates (inputs × edges / s) for these sizes at 120 layers: the seed paper's
# V100 cuSPARSE and the 2020 champions' A100.
published() { case "$1" in 1024) echo "9.6e10 1.3e13" ;; 4096) echo "6.5e10 -" ;; 16384) echo "3.8e10 -" ;; *) echo "- -" ;; esac; }
rate_of() { grep -o 'rate [0-9.e+]*' "$1" | tail -1 | cut -d' ' -f2; }
# row N L M CATEGORIES DEVICE-RATE CPU-RATE TORCH-RATE V100 A100: one line of the table.
row() {
    awk -v n="$1" -v l="$2" -v m="$3" -v cats="$4" -v dev="$5" -v cpu="$6" -v torch="$7" -v v100="$8" -v a100="$9" '
        function sci(x) { return x + 0 > 0 ? sprintf("%.2e", x) : "—" }
        function ratio(a, b) { return (a + 0 > 0 && b + 0 > 0) ? sprintf("%.1f×", a / b) : "—" }
        BEGIN { printf "| %s × %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", n, l, m, cats,
                sci(dev), sci(cpu), sci(torch), ratio(dev, cpu), ratio(dev, torch), v100, ratio(dev, v100), a100 }'
}

{
    echo "| N × L | inputs | categories | Sprig $DEVICE rate | Sprig CPU rate ($NP threads) | PyTorch $torch_device rate | $DEVICE / CPU | $DEVICE / PyTorch | V100 paper | $DEVICE / V100 | A100 champions |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
} > "$TABLE"
for c in $CASES; do
    n=${c%%:*}; m=${c##*:}
    if [ $SECONDS -gt "$BUDGET" ]; then
        say "case N = $n, $m inputs: not started, $SECONDS s is past the budget of $BUDGET s"
        echo "| $n × $LAYERS | $m | not run: past --budget $BUDGET s | | | | | | | | |" >> "$TABLE"
        continue
    fi
    net=$WORK/nets/$n-$LAYERS-$m
    say "case N = $n, $LAYERS layers, $m inputs"
    if [ ! -f "$net/sparse-images-$n.tsv" ]; then
        rm -rf "$net"
        run "generate" "$SPRIG" challenge generate --neurons "$n" --layers "$LAYERS" --inputs "$m" --output "$net" \
            ${SPRIG_FASHION_MNIST:+--data-dir "$SPRIG_FASHION_MNIST"} || { check "N = $n: generated" 1; continue; }
    fi
    rm -f "$net/cpu.tsv" "$net/device.tsv" "$net/torch.tsv"
    ARGS=(challenge run --network "$net" --neurons "$n" --layers "$LAYERS" --inputs "$net/sparse-images-$n.tsv")
    run "CPU engine" "$SPRIG" "${ARGS[@]}" --device cpu --threads "$NP" --categories-out "$net/cpu.tsv"
    cpu_status=$?; cpu_rate=$(rate_of "$LAST")
    run "$DEVICE engine" "$SPRIG" "${ARGS[@]}" --device "$DEVICE" --repeat 3 --categories-out "$net/device.tsv"
    dev_status=$?; dev_rate=$(rate_of "$LAST")
    [ $cpu_status -eq 0 ] && [ $dev_status -eq 0 ] && cmp -s "$net/cpu.tsv" "$net/device.tsv"
    same=$?
    categories=$(wc -l < "$net/cpu.tsv" 2>/dev/null || echo -)
    check "N = $n: the same $categories categories on --device $DEVICE as on the CPU" $same
    torch_rate=-
    if [ $have_torch -eq 1 ]; then
        run "PyTorch ($torch_device)" host_python "$REPO/bench/challenge_peers.py" torch --device "$torch_device" --threads "$NP" \
            --network "$net" --neurons "$n" --layers "$LAYERS" --inputs "$net/sparse-images-$n.tsv" --repeat 3 \
            --categories-out "$net/torch.tsv"
        torch_status=$?
        torch_rate=$(grep -o '"rate": [0-9.e+]*' "$LAST" | tail -1 | cut -d' ' -f2)
        [ $torch_status -eq 0 ] && cmp -s "$net/cpu.tsv" "$net/torch.tsv"
        check "N = $n: PyTorch finds the same categories" $?
    fi
    read -r v100 a100 <<< "$(published "$n")"
    [ "$LAYERS" -eq 120 ] || { v100=-; a100=-; }
    row "$n" "$LAYERS" "$m" "$categories" "$dev_rate" "$cpu_rate" "$torch_rate" "$v100" "$a100" >> "$TABLE"
done

say ""
cat "$TABLE" | tee -a "$LOG"
if [ $FAILED -eq 0 ]; then say "gpu/checks.sh: all checks passed"; else say "gpu/checks.sh: some checks FAILED (see $LOG)"; fi
exit $FAILED
