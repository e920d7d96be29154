#!/usr/bin/env bash
# Reproducible speed: the same `sprig train` command in N separate processes (default 10), and
# the spread of each process's fastest epoch time (seconds) around their median. With a second
# binary, the two alternate (A B A B …), so that both see the same machine.
#
#   bench/spread.sh [--runs N] [--baseline OLD_SPRIG] [--sprig BIN] [-- TRAIN_FLAGS…]
#
# Default command: CIFAR-shaped synthetic data, 3072-1024-512-10 at overall density 0.01,
# 10 000 examples, 3 epochs, 2 threads, --fan-in dense (bench/run.sh's part 1).
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
RUNS=10
FLAGS=(--dataset synthetic --layer-sizes 3072,1024,512,10 --overall-density 0.01 --train-size 10000 --test-size 1000
       --epochs 3 --threads 2 --fan-in dense --seed 1)
while [[ $# -gt 0 ]]; do
    case $1 in
        --runs) RUNS=$2; shift 2 ;;
        --baseline) BASELINE=$2; shift 2 ;;
        --sprig) SPRIG_BIN=$2; shift 2 ;;
        --) shift; FLAGS=("$@"); break ;;
        -h|--help) usage; exit 0 ;;
        *) echo "error: unknown option '$1' (see bench/spread.sh --help)" >&2; exit 2 ;;
    esac
done
[[ "$RUNS" =~ ^[1-9][0-9]*$ ]] || { echo "error: --runs must be a positive integer, got '$RUNS'" >&2; exit 2; }
sprig_and_baseline
echo "command: sprig train ${FLAGS[*]}"
declare -A TIMES
for ((r = 1; r <= RUNS; r++)); do
    for side in new ${BASELINE:+old}; do
        binary=$SPRIG_BIN; [[ $side == old ]] && binary=$BASELINE
        # The fastest epoch of this process (sprig prints "epoch E/N  loss …  S s  R examples/s").
        t=$("$binary" train "${FLAGS[@]}" | awk '/^epoch [0-9]+\/[0-9]+ / { for (i = 1; i < NF; i++) if ($(i + 1) == "s") s = $i;
                                                     if (best == "" || s < best) best = s } END { print best }')
        TIMES[$side]+="$t "
    done
done
for side in new ${BASELINE:+old}; do
    # shellcheck disable=SC2086
    python3 - "$side" ${TIMES[$side]} <<'PY'
import statistics, sys
side, times = sys.argv[1], [float(t) for t in sys.argv[2:]]
m = statistics.median(times)
spread = max(abs(t - m) / m for t in times)
print(f"{side}: {len(times)} processes, fastest epoch min {min(times):.3f} s, median {m:.3f} s, max {max(times):.3f} s; "
      f"largest deviation from the median {100 * spread:.1f} %; all: " + " ".join(f"{t:.3f}" for t in times))
PY
done
