#!/usr/bin/env bash
# Dynamic sparse training (SET, RigL): Sprig against PyTorch with binary masks doing the same
# prune/regrow (bench/pytorch_dst.py), same machine, same thread count, one invocation.
#
#   bench/dst.sh [--quick] [--threads T] [--only 1|2|3[,..]] [--peers pytorch,sprig]
#                [--epochs N] [--densities "0.01 0.001"] [--repeats R] [--sprig BIN] [--results DIR]
#                [--dry-run] [--report DIR] [-h]
#
#   1. Fashion-MNIST 784-1024-512-10 at overall density 0.01 and 0.001, 20 epochs, Nesterov
#      0.9, lr 0.1, Glorot uniform (dense fan): final and best test accuracy for static,
#      SET (--prune set:0.3 --grow random) and RigL (--prune magnitude:0.3 --grow gradient
#      --regrow-schedule cosine), both systems.
#   2. Cost of the topology step at 0.01 (Sprig): epoch time with regrow every epoch
#      (random, gradient) / static; PyTorch-masked / Sprig epoch time with SET.
#   3. 2 ranks vs 1 rank (Sprig, 1 thread each, per-rank batch 100): weak-scaling efficiency,
#      static and with SET regrow.
#   Parts 2 and 3 run each configuration --repeats times (default 3), interleaved, and report
#   the median over the repeats of each run's fastest epoch: this VM's speed swings by up to
#   2× from minute to minute, so one run of each says little.
#
# --peers pytorch runs only the PyTorch half (parts 1 and 2's PyTorch runs).  The Python is
# $BENCH_PYTHON when set, else bench/.venv (created as bench/run.sh does).  Raw JSON lines
# go to bench/results/dst-<timestamp>/ (gitignored); the tables to report.md there.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ONLY="1,2,3"
DENSITIES="0.01 0.001"
RUN_TIMEOUT=${RUN_TIMEOUT:-7200}
VALUE_FLAGS+=(--densities DENSITIES)
parse_args "$@"
check_common '^[123](,[123])*$' "1, 2, 3 or a comma list of them"
report_setup dst_report.py

# ---------------------------------------------------------------------------- settings
if [[ $QUICK -eq 1 ]]; then
    E1=${EPOCHS:-2}; E2=3; E3=3
    SUBSET=(--train-size 10000 --test-size 2000)
else
    E1=${EPOCHS:-20}; E2=6; E3=4
    SUBSET=()
fi
DATA=(--dataset fashion-mnist --data-dir "$FMNIST_DIR" --layer-sizes 784,1024,512,10)
HYPER=(--optimizer nesterov:0.9 --learning-rate 0.1 --initializer xavier-normalized
       --fan-in dense --seed 1)
rule_args() {   # static | set | rigl | gradient
    case $1 in
        static) ;;
        set) echo "--prune set:0.3 --grow random" ;;
        rigl) echo "--prune magnitude:0.3 --grow gradient --regrow-schedule cosine" ;;
        gradient) echo "--prune magnitude:0.3 --grow gradient" ;;
    esac
}

[[ -n "$RESULTS" ]] || RESULTS="$BENCH_DIR/results/dst-$(date +%Y%m%d-%H%M%S)"
INDEX="$RESULTS/runs.jsonl"

cat <<EOF
Sprig dynamic sparse training benchmarks: only=$ONLY peers=$PEERS quick=$QUICK threads=$THREADS
  results=$RESULTS
  1: densities [$DENSITIES], static/SET/RigL, $E1 epoch(s) ${SUBSET[*]}
  2: density 0.01, $E2 epochs;  3: 1 vs 2 ranks, $E3 epochs
EOF

# one PART IMPL TAG DENSITY RULE RANKS -- CMD...: run, keep metrics and stdout, index it.
RECORD_FLAGS=(--density --rule --ranks)
start_results
if peer pytorch && { wants 1 || wants 2; }; then [[ $DRY_RUN -eq 1 ]] || ensure_venv; fi
if peer sprig; then
    build_sprig "this benchmark needs a Sprig with dynamic sparse training (or run --peers pytorch)" \
        --prune --grow --grow-weights --regrow-every --regrow-schedule --regrow-until \
        --initializer --fan-in --metrics
fi
PT=("$PY" "$BENCH_DIR/pytorch_dst.py")
SP=("$SPRIG_BIN" train)
MPIRUN=(mpirun -np 2 --allow-run-as-root --oversubscribe)

# ---------------------------------------------------------------------------- benchmarks
if wants 1; then
    echo; echo "== 1. Fashion-MNIST 784-1024-512-10, accuracy, $E1 epochs"
    for d in $DENSITIES; do
        for r in static set rigl; do
            # shellcheck disable=SC2046
            args=("${DATA[@]}" "${SUBSET[@]}" --overall-density "$d" --epochs "$E1"
                  --batch-size 100 --threads "$THREADS" "${HYPER[@]}" $(rule_args $r))
            if peer pytorch; then one 1 pytorch "d$d-$r" "$d" "$r" 1 -- "${PT[@]}" "${args[@]}"; fi
            if peer sprig; then one 1 sprig "d$d-$r" "$d" "$r" 1 -- "${SP[@]}" "${args[@]}"; fi
        done
    done
fi

if wants 2; then
    echo; echo "== 2. Cost of the topology step, density 0.01, $E2 epochs"
    base=("${DATA[@]}" "${SUBSET[@]}" --overall-density 0.01 --epochs "$E2" --batch-size 100
          --threads "$THREADS" "${HYPER[@]}")
    for rep in $(seq "$REPEATS"); do
        if peer sprig; then
            for r in static set gradient; do
                # shellcheck disable=SC2046
                one 2 sprig "$r-r$rep" 0.01 "$r" 1 -- "${SP[@]}" "${base[@]}" $(rule_args $r)
            done
        fi
        # shellcheck disable=SC2046
        if peer pytorch && [[ $rep -eq 1 ]]; then one 2 pytorch pt-set 0.01 set 1 -- "${PT[@]}" "${base[@]}" $(rule_args set); fi
    done
fi

if wants 3 && peer sprig; then
    echo; echo "== 3. 2 ranks vs 1 rank, 1 thread each, per-rank batch 100, $E3 epochs"
    command -v mpirun >/dev/null || [[ $DRY_RUN -eq 1 ]] || die "mpirun not found (part 3)"
    base=("${DATA[@]}" "${SUBSET[@]}" --overall-density 0.01 --epochs "$E3" --threads 1 "${HYPER[@]}")
    for rep in $(seq "$REPEATS"); do
        for r in static set; do
            # shellcheck disable=SC2046
            one 3 sprig "$r-1rank-r$rep" 0.01 "$r" 1 -- "${SP[@]}" "${base[@]}" --batch-size 100 $(rule_args $r)
            # shellcheck disable=SC2046
            one 3 sprig "$r-2ranks-r$rep" 0.01 "$r" 2 -- "${MPIRUN[@]}" "${SP[@]}" "${base[@]}" --batch-size 200 $(rule_args $r)
        done
    done
fi

# ---------------------------------------------------------------------------- report
final_report
