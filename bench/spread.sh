#!/usr/bin/env bash
# Reproducible speed: the same `sprig train` command in N separate processes (default 10), and
# the spread of each process's fastest epoch time (seconds) around their median. With a second
# binary, the two alternate (A B A B …), so that both see the same machine.
#
#   bench/spread.sh [--runs N] [--baseline OLD_SPRIG] [--sprig BIN] [-- TRAIN_FLAGS…]
#
# Default command: CIFAR-shaped synthetic data, 3072-1024-512-10 at overall density 0.01,
# 10 000 examples, 3 epochs, 2 threads, --fan-in dense (bench/run.sh's part 1).
#
# Before and after each process, `cpu_round_trip` (bench/lib.sh) measures how far apart CPUs 0
# and 1 are (a cache line's round trip, ns): on a VM whose host moves the vCPUs between dies,
# the slow processes are those that ran while the two were far apart (bench/README.md,
# "Reproducible speed"). The summary gives the spread of all processes and of those whose two
# probes were both within 2× the run's nearest.
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
build_round_trip_probe
echo "command: sprig train ${FLAGS[*]}"
declare -A TIMES
for ((r = 1; r <= RUNS; r++)); do
    for side in new ${BASELINE:+old}; do
        binary=$SPRIG_BIN; [[ $side == old ]] && binary=$BASELINE
        before=$(cpu_round_trip)
        # The fastest epoch of this process (sprig prints "epoch E/N  loss …  S s  R examples/s").
        t=$("$binary" train "${FLAGS[@]}" | awk '/^epoch [0-9]+\/[0-9]+ / { for (i = 1; i < NF; i++) if ($(i + 1) == "s") s = $i;
                                                     if (best == "" || s < best) best = s } END { print best }')
        TIMES[$side]+="$t:$before:$(cpu_round_trip) "
    done
done
for side in new ${BASELINE:+old}; do
    # shellcheck disable=SC2086
    python3 - "$side" ${TIMES[$side]} <<'PY'
import statistics, sys
side = sys.argv[1]
runs = [tuple(float(v) for v in r.split(":")) for r in sys.argv[2:]]   # (epoch s, round trip before, after)
def spread(times):
    m = statistics.median(times)
    return (f"{len(times)} processes, fastest epoch min {min(times):.3f} s, median {m:.3f} s, max {max(times):.3f} s; "
            f"largest deviation from the median {100 * max(abs(t - m) / m for t in times):.1f} %")
print(f"{side}: {spread([t for t, _, _ in runs])}; all (epoch s / CPU round trip before, after in ns): "
      + " ".join(f"{t:.3f}/{a:.0f},{b:.0f}" for t, a, b in runs))
nearest = min(min(a, b) for _, a, b in runs)
near = [t for t, a, b in runs if max(a, b) <= 2 * nearest]
if nearest > 0 and near:
    print(f"{side}, CPUs near (both probes ≤ {2 * nearest:.0f} ns): {spread(near)}")
PY
done
