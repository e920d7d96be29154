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

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
VENV="$BENCH_DIR/.venv"

QUICK=0
THREADS=$(nproc 2>/dev/null || echo 1)
ONLY="1,2"
PEERS="pytorch,sprig"
EPOCHS=""
REPEATS=3
SPRIG_BIN=""
RESULTS=""
DRY_RUN=0
REPORT_ONLY=""
FMNIST_DIR=${FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
RUN_TIMEOUT=${RUN_TIMEOUT:-7200}

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; }
die() { echo "layers.sh: $*" >&2; exit 2; }
need() { [[ $2 -ge 2 ]] || die "$1 needs a value"; }

while [[ $# -gt 0 ]]; do
    case "$1" in
        --quick) QUICK=1 ;;
        --threads) need "$1" $#; THREADS=$2; shift ;;
        --threads=*) THREADS=${1#*=} ;;
        --only) need "$1" $#; ONLY=$2; shift ;;
        --only=*) ONLY=${1#*=} ;;
        --peers) need "$1" $#; PEERS=$2; shift ;;
        --peers=*) PEERS=${1#*=} ;;
        --epochs) need "$1" $#; EPOCHS=$2; shift ;;
        --epochs=*) EPOCHS=${1#*=} ;;
        --repeats) need "$1" $#; REPEATS=$2; shift ;;
        --repeats=*) REPEATS=${1#*=} ;;
        --sprig) need "$1" $#; SPRIG_BIN=$2; shift ;;
        --sprig=*) SPRIG_BIN=${1#*=} ;;
        --results) need "$1" $#; RESULTS=$2; shift ;;
        --results=*) RESULTS=${1#*=} ;;
        --report) need "$1" $#; REPORT_ONLY=$2; shift ;;
        --report=*) REPORT_ONLY=${1#*=} ;;
        --dry-run|-n) DRY_RUN=1 ;;
        -h|--help) usage; exit 0 ;;
        *) die "unknown argument: $1 (see --help)" ;;
    esac
    shift
done

[[ "$REPEATS" =~ ^[1-9][0-9]*$ ]] || die "--repeats must be a positive integer, got '$REPEATS'"
[[ "$THREADS" =~ ^[1-9][0-9]*$ ]] || die "--threads must be a positive integer, got '$THREADS'"
[[ "$ONLY" =~ ^[12](,[12])*$ ]] || die "--only takes 1, 2 or 1,2, got '$ONLY'"
[[ "$PEERS" =~ ^(pytorch|sprig)(,(pytorch|sprig))*$ ]] || die "--peers takes pytorch, sprig or both, got '$PEERS'"
[[ -z "$EPOCHS" || "$EPOCHS" =~ ^[1-9][0-9]*$ ]] || die "--epochs must be a positive integer"
wants() { [[ ",$ONLY," == *",$1,"* ]]; }
peer() { [[ ",$PEERS," == *",$1,"* ]]; }

REPORT_PY=$(command -v python3 || true)
[[ -n "$REPORT_PY" ]] || die "python3 not found"
REPORT="$BENCH_DIR/layers_report.py"
if [[ -n "$REPORT_ONLY" ]]; then
    exec "$REPORT_PY" "$REPORT" tables "$REPORT_ONLY" --only "$ONLY"
fi

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

run() {
    if [[ $DRY_RUN -eq 1 ]]; then printf '+'; printf ' %q' "$@"; printf '\n'; else "$@"; fi
}

# ---------------------------------------------------------------------------- environment
PY=${BENCH_PYTHON:-$VENV/bin/python}
ensure_venv() {
    if [[ -x "$PY" ]] && "$PY" -c 'import torch, numpy' >/dev/null 2>&1; then return; fi
    [[ -z "${BENCH_PYTHON:-}" ]] || die "\$BENCH_PYTHON=$BENCH_PYTHON cannot import torch and numpy"
    echo "== setting up $VENV (torch, numpy)"
    [[ -x "$PY" ]] || python3 -m venv "$VENV" || die "python3 -m venv failed"
    "$PY" -m pip install --upgrade pip >/dev/null
    # shellcheck disable=SC2086
    "$PY" -m pip install ${BENCH_PIP_ARGS:-} torch numpy
}

build_sprig() {
    if [[ -z "$SPRIG_BIN" ]]; then
        echo "== building Sprig (swift build -c release)"
        (cd "$ROOT" && run swift build -c release)
        SPRIG_BIN="$ROOT/.build/release/sprig"
    fi
    [[ $DRY_RUN -eq 1 ]] && return
    [[ -x "$SPRIG_BIN" ]] || die "Sprig binary $SPRIG_BIN is not executable"
    # The layer flags must exist: fail clearly, not with a parse error in the middle of the
    # tables.
    local help missing=()
    help=$("$SPRIG_BIN" train --help 2>&1 || true)
    for f in --layers --dropouts --optimizer --learning-rate --overall-density --initializer \
             --fan-in --metrics; do
        grep -qE -- "(^|[^a-z-])$f([^a-z-]|$)" <<<"$help" || missing+=("$f")
    done
    [[ ${#missing[@]} -eq 0 ]] || die "$SPRIG_BIN train lacks ${missing[*]}: this benchmark needs a Sprig with --layers (BatchNorm), --dropouts and Adam (or run --peers pytorch)"
    if wants 1 && ! grep -qi adam <<<"$help"; then
        echo "layers.sh: warning: '$SPRIG_BIN train --help' does not mention adam; the Adam run may fail" >&2
    fi
}

# one PART IMPL TAG CONFIG -- CMD...: run, keep metrics and stdout, index it.
one() {
    local part=$1 impl=$2 tag=$3 config=$4; shift 5
    local base="$RESULTS/p${part}_${impl}_${tag}"
    local metrics="$base.metrics.jsonl" out="$base.stdout" rc=0
    echo "-- part $part $impl $tag"
    if [[ $DRY_RUN -eq 1 ]]; then run timeout -k 30 "$RUN_TIMEOUT" "$@" --metrics "$metrics"; return; fi
    rm -f "$metrics"
    timeout -k 30 "$RUN_TIMEOUT" "$@" --metrics "$metrics" >"$out" 2>&1 || rc=$?
    [[ $rc -eq 0 ]] || { echo "   exit status $rc; last lines:"; tail -n 3 "$out" | sed 's/^/   | /'; }
    [[ -s "$metrics" ]] && tail -n 1 "$metrics" | sed 's/^/   /'
    "$REPORT_PY" "$REPORT" record --index "$INDEX" --part "$part" --impl "$impl" --tag "$tag" \
        --config "$config" --rc "$rc" --metrics "$metrics"
}

if [[ $DRY_RUN -eq 1 ]]; then echo "(dry run: commands are printed, not run)"; else mkdir -p "$RESULTS"; fi
if peer pytorch; then [[ $DRY_RUN -eq 1 ]] || ensure_venv; fi
if peer sprig; then build_sprig; fi
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
if [[ $DRY_RUN -eq 0 ]]; then
    echo
    "$REPORT_PY" "$REPORT" tables "$RESULTS" --only "$ONLY" | tee "$RESULTS/report.md"
    echo; echo "raw results: $RESULTS"
fi
