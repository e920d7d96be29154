#!/usr/bin/env bash
# BatchNorm, dropout and Adam: Sprig against PyTorch with binary masks (bench/pytorch_layers.py),
# same layers, same hyperparameters, same machine, same thread count, one invocation.
#
#   bench/layers.sh [--quick] [--threads T] [--only 1|2[,..]] [--peers pytorch,sprig]
#                   [--epochs N] [--repeats R] [--sprig BIN] [--results DIR]
#                   [--dry-run] [--report DIR] [-h]
#
# All runs: Fashion-MNIST 784-1024-1024-10, --overall-density 0.05, 10 epochs, batch 100,
# --fan-in dense --initializer xavier-normalized --seed 1.
#   1. Accuracy: plain (--layers "ReLU;ReLU;Linear", nesterov:0.9, lr 0.01), BatchNorm
#      (--layers "ReLU;BatchNorm;ReLU;BatchNorm;Linear"), dropout (--dropouts 0.2,0.2,0.2,
#      plain layers), Adam (--optimizer adam:0.9,0.999,1e-8 --learning-rate 0.001, plain
#      layers): final and best test accuracy of both systems and the difference (target:
#      within 1 point).
#   2. Epoch time PyTorch/Sprig for plain, BatchNorm and dropout, and each ratio relative to
#      plain's (target: within 20 %).  Each configuration runs --repeats times (default 3),
#      interleaved; the figure is the median over the repeats of each run's fastest epoch
#      after the first (this VM's speed swings by up to 2× from minute to minute).
#
# --peers pytorch runs only the PyTorch half.  The Python is $BENCH_PYTHON when set, else
# bench/.venv (created as bench/run.sh does).  Raw JSON lines go to
# bench/results/layers-<timestamp>/ (gitignored); the tables to report.md there.
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ONLY="1,2"
RUN_TIMEOUT=${RUN_TIMEOUT:-7200}
parse_args "$@"
check_common '^[12](,[12])*$' "1, 2 or 1,2"
report_setup layers_report.py

# ---------------------------------------------------------------------------- settings
if [[ $QUICK -eq 1 ]]; then
    E1=${EPOCHS:-2}; E2=${EPOCHS:-3}
    SUBSET=(--train-size 10000 --test-size 2000)
else
    E1=${EPOCHS:-10}; E2=${EPOCHS:-10}
    SUBSET=()
fi
DATA=(--dataset fashion-mnist --data-dir "$FMNIST_DIR" --layer-sizes 784,1024,1024,10
      --overall-density 0.05 --batch-size 100 --fan-in dense --initializer xavier-normalized
      --seed 1)
PLAIN="ReLU;ReLU;Linear"
BN="ReLU;BatchNorm;ReLU;BatchNorm;Linear"
NESTEROV=(--optimizer nesterov:0.9 --learning-rate 0.01)
config_args() {   # plain | batchnorm | dropout | adam: one argument per line
    case $1 in
        plain) printf '%s\n' --layers "$PLAIN" "${NESTEROV[@]}" ;;
        batchnorm) printf '%s\n' --layers "$BN" "${NESTEROV[@]}" ;;
        dropout) printf '%s\n' --layers "$PLAIN" --dropouts 0.2,0.2,0.2 "${NESTEROV[@]}" ;;
        adam) printf '%s\n' --layers "$PLAIN" --optimizer adam:0.9,0.999,1e-8 --learning-rate 0.001 ;;
    esac
}

[[ -n "$RESULTS" ]] || RESULTS="$BENCH_DIR/results/layers-$(date +%Y%m%d-%H%M%S)"
INDEX="$RESULTS/runs.jsonl"

cat <<EOT
Sprig BatchNorm/dropout/Adam benchmarks: only=$ONLY peers=$PEERS quick=$QUICK threads=$THREADS
  results=$RESULTS
  1: plain/BatchNorm/dropout/Adam accuracy, $E1 epoch(s) ${SUBSET[*]}
  2: plain/BatchNorm/dropout epoch time, $E2 epochs, $REPEATS repeat(s)
EOT

# one PART IMPL TAG CONFIG -- CMD...: run, keep metrics and stdout, index it.
RECORD_FLAGS=(--config)
start_results
if peer pytorch; then [[ $DRY_RUN -eq 1 ]] || ensure_venv; fi
if peer sprig; then
    build_sprig "this benchmark needs a Sprig with --layers (BatchNorm), --dropouts and Adam (or run --peers pytorch)" \
        --layers --dropouts --optimizer --learning-rate --overall-density --initializer \
        --fan-in --metrics
    if [[ $DRY_RUN -eq 0 ]] && wants 1 && ! grep -qi adam <<<"$SPRIG_HELP"; then
        echo "layers.sh: warning: '$SPRIG_BIN train --help' does not mention adam; the Adam run may fail" >&2
    fi
fi
PT=("$PY" "$BENCH_DIR/pytorch_layers.py")
SP=("$SPRIG_BIN" train)

# ---------------------------------------------------------------------------- benchmarks
if wants 1; then
    echo; echo "== 1. Fashion-MNIST 784-1024-1024-10, density 0.05, accuracy, $E1 epochs"
    for c in plain batchnorm dropout adam; do
        mapfile -t extra < <(config_args $c)
        args=("${DATA[@]}" "${SUBSET[@]}" --epochs "$E1" --threads "$THREADS" "${extra[@]}")
        if peer pytorch; then one 1 pytorch "$c" "$c" -- "${PT[@]}" "${args[@]}"; fi
        if peer sprig; then one 1 sprig "$c" "$c" -- "${SP[@]}" "${args[@]}"; fi
    done
fi

if wants 2; then
    echo; echo "== 2. Epoch time PyTorch/Sprig, $E2 epochs, $REPEATS repeat(s), interleaved"
    for rep in $(seq "$REPEATS"); do
        for c in plain batchnorm dropout; do
            mapfile -t extra < <(config_args $c)
            args=("${DATA[@]}" "${SUBSET[@]}" --epochs "$E2" --threads "$THREADS" "${extra[@]}")
            if peer pytorch; then one 2 pytorch "$c-r$rep" "$c" -- "${PT[@]}" "${args[@]}"; fi
            if peer sprig; then one 2 sprig "$c-r$rep" "$c" -- "${SP[@]}" "${args[@]}"; fi
        done
    done
fi

# ---------------------------------------------------------------------------- report
final_report
