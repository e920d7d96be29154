#!/usr/bin/env bash
# Structured sparsity (FSSL): static sparse training against the group lasso with neuron removal
# and against importance pruning (Curci et al.), all Sprig, same machine, one invocation.
#
#   bench/fssl.sh [--quick] [--threads T] [--densities "D1 D2"] [--epochs N] [--lasso L]
#                 [--importance F] [--until U] [--sprig BIN] [--results DIR] [--dry-run]
#                 [--report DIR] [-h]
#
# All runs: Fashion-MNIST 784-1024-1024-10, --overall-density D (default 0.05 and 0.01),
# 20 epochs, batch 100, nesterov:0.9, lr 0.01, --seed 1.  Per density:
#   static      the sparse network as drawn;
#   fssl        --group-lasso L (default 0.015) --shrink-until U (default 0.5): the first U of
#               the epochs regularised, a shrink after each, then fine-tuning the compact network;
#   importance  --prune-neurons importance:F (default 0.1) --shrink-until U;
#   speed       for fssl and importance, the compact network (its saved weights, --load-weights
#               with the compact sizes: what the end epochs train) against a static network with
#               the same number of nonzeros at full width (--overall-density from the compact
#               nonzeros), 4 epochs each, interleaved --repeats times (default 3).
# Figures: final test accuracy; final sizes, nonzeros and hidden neurons removed; s/epoch of
# the compact and matched networks (median over repeats of each run's median of epochs 2–4; the
# VM's speed drifts by tens of % between minutes, so runs far apart in time do not compare);
# and the inference time of the test set (10 000 examples, evaluation seconds, same medians).
# Targets: ≤ 1 point of accuracy lost, ≥ 50 % of the hidden neurons removed, the end epochs
# ≥ 1.5× faster than the matched static network.
#
# Raw JSON lines go to bench/results/fssl-<timestamp>/ (gitignored); the tables to report.md.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ONLY="1"
DENSITIES="0.05 0.01"
LASSO=0.015
IMPORTANCE=0.1
UNTIL=0.5
PEERS="sprig"
RUN_TIMEOUT=${RUN_TIMEOUT:-7200}
VALUE_FLAGS+=(--densities DENSITIES --lasso LASSO --importance IMPORTANCE --until UNTIL)
parse_args "$@"
check_common '^1$' "1"
report_setup fssl_report.py

if [[ $QUICK -eq 1 ]]; then
    E=${EPOCHS:-4}
    SUBSET=(--train-size 10000 --test-size 2000)
else
    E=${EPOCHS:-20}
    SUBSET=()
fi
DATA=(--dataset fashion-mnist --data-dir "$FMNIST_DIR" "${SUBSET[@]}"
      --batch-size 100 --optimizer nesterov:0.9 --learning-rate 0.01 --seed 1 --threads "$THREADS")
SHRINK=(--shrink-until "$UNTIL")
FULL=(--layer-sizes 784,1024,1024,10)

[[ -n "$RESULTS" ]] || RESULTS="$BENCH_DIR/results/fssl-$(date +%Y%m%d-%H%M%S)"
INDEX="$RESULTS/runs.jsonl"

cat <<EOT
Sprig structured sparsity benchmark: densities [$DENSITIES], $E epochs, group lasso $LASSO,
importance $IMPORTANCE, until $UNTIL, threads=$THREADS quick=$QUICK
  results=$RESULTS
EOT

RECORD_FLAGS=(--density --method)
start_results
build_sprig "this benchmark needs a Sprig with structured sparsity" \
    --group-lasso --prune-neurons --shrink-until --metrics
SP=("$SPRIG_BIN" train)

for d in $DENSITIES; do
    echo; echo "== density $d"
    one 1 sprig "d$d-static" "$d" static -- "${SP[@]}" "${DATA[@]}" "${FULL[@]}" --overall-density "$d" --epochs "$E"
    one 1 sprig "d$d-fssl" "$d" fssl -- "${SP[@]}" "${DATA[@]}" "${FULL[@]}" --overall-density "$d" --epochs "$E" \
        --group-lasso "$LASSO" "${SHRINK[@]}" --save-weights "$RESULTS/d$d-fssl.npz"
    one 1 sprig "d$d-importance" "$d" importance -- "${SP[@]}" "${DATA[@]}" "${FULL[@]}" --overall-density "$d" --epochs "$E" \
        --prune-neurons "importance:$IMPORTANCE" "${SHRINK[@]}" --save-weights "$RESULTS/d$d-importance.npz"
    # Speed at the end: the compact network trained on from its saved weights, against a static
    # network with as many nonzeros, 4 epochs each, interleaved --repeats times.
    for m in fssl importance; do
        if [[ $DRY_RUN -eq 1 ]]; then sizes="(from the $m run)"; matched="(from the $m run)"; else
            sizes=$("$REPORT_PY" "$REPORT" compact-sizes "$RESULTS/p1_sprig_d$d-$m.metrics.jsonl") &&
            matched=$("$REPORT_PY" "$REPORT" matched-density "$RESULTS/p1_sprig_d$d-$m.metrics.jsonl") || {
                echo "   no compact network from the $m run: its speed runs are skipped"; continue; }
        fi
        base=("${SP[@]}" "${DATA[@]}" --epochs 4)
        for rep in $(seq "$REPEATS"); do
            one 1 sprig "d$d-compact-$m-r$rep" "$d" "compact-$m" -- "${base[@]}" \
                --layer-sizes "$sizes" --load-weights "$RESULTS/d$d-$m.npz"
            one 1 sprig "d$d-matched-$m-r$rep" "$d" "matched-$m" -- "${base[@]}" "${FULL[@]}" --overall-density "$matched"
        done
    done
done

final_report
