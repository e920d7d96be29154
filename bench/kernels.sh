#!/usr/bin/env bash
# The training kernels' roofline: `sprig kernel-bench` on square layers W×W at each density,
# batch 100, on T threads. Each kernel's GFLOP/s (2·nnz·B flops) and bytes per nonzero beside
# the machine's own sgemm rate and L2/L3/DRAM read bandwidths, measured in the same process,
# and the bound that applies (the smaller of sgemm's rate and the bandwidth of the level that
# holds the matrix the kernel gathers rows from, times its flops per byte).
#
#   bench/kernels.sh [--widths 1024,4096,…] [--densities 0.1,0.01,0.001,0.00004] [--threads T]
#                    [--repeats R] [--baseline OLD_SPRIG] [--sprig BIN]
#
# --repeats R runs the whole bench R times (default 3) and reports each figure's median over
# the runs; with --baseline, OLD_SPRIG's kernel-bench runs in alternation with this one
# (A B A B …) and the table gains the old GFLOP/s and the ratio new/old. Raw JSON lines go to
# bench/results/kernels-<timestamp>/, the table to report.md there and to standard output, the
# CPUs' round trip before and after each run (`cpu_round_trip`, bench/lib.sh) to
# round-trips.txt there: a 2-thread run whose CPUs were on different dies is slower.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
WIDTHS=1024,4096,16384,65536,262144,1048576 DENSITIES=0.1,0.01,0.001,0.00004 THREADS=$(nproc) REPEATS=3

while [[ $# -gt 0 ]]; do
    case $1 in
        --widths) WIDTHS=$2; shift 2 ;;
        --densities) DENSITIES=$2; shift 2 ;;
        --threads) THREADS=$2; shift 2 ;;
        --repeats) REPEATS=$2; shift 2 ;;
        --baseline) BASELINE=$2; shift 2 ;;
        --sprig) SPRIG_BIN=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "error: unknown option '$1' (see bench/kernels.sh --help)" >&2; exit 2 ;;
    esac
done
[[ "$REPEATS" =~ ^[1-9][0-9]*$ ]] || { echo "error: --repeats must be a positive integer, got '$REPEATS'" >&2; exit 2; }
[[ "$THREADS" =~ ^[1-9][0-9]*$ ]] || { echo "error: --threads must be a positive integer, got '$THREADS'" >&2; exit 2; }
sprig_and_baseline
build_round_trip_probe
OUT="$ROOT/bench/results/kernels-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
for ((r = 1; r <= REPEATS; r++)); do
    for side in new ${BASELINE:+old}; do
        binary=$SPRIG_BIN; [[ $side == old ]] && binary=$BASELINE
        before=$(cpu_round_trip)
        "$binary" kernel-bench --widths "$WIDTHS" --densities "$DENSITIES" --threads "$THREADS" --max-nonzeros 70000000 \
            > "$OUT/$side-$r.jsonl"
        echo "run $r/$REPEATS: $side ($binary); CPUs 0 and 1 round trip before, after: $before, $(cpu_round_trip) ns" \
            | tee -a "$OUT/round-trips.txt" >&2
    done
done
python3 "$ROOT/bench/kernels_report.py" "$OUT" | tee "$OUT/report.md"
