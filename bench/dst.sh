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

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
VENV="$BENCH_DIR/.venv"

QUICK=0
THREADS=$(nproc 2>/dev/null || echo 1)
ONLY="1,2,3"
PEERS="pytorch,sprig"
EPOCHS=""
DENSITIES="0.01 0.001"
REPEATS=3
SPRIG_BIN=""
RESULTS=""
DRY_RUN=0
REPORT_ONLY=""
FMNIST_DIR=${FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
RUN_TIMEOUT=${RUN_TIMEOUT:-7200}

usage() { sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed -e '$d' -e 's/^# \{0,1\}//'; }
die() { echo "dst.sh: $*" >&2; exit 2; }
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
        --densities) need "$1" $#; DENSITIES=$2; shift ;;
        --densities=*) DENSITIES=${1#*=} ;;
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
[[ "$ONLY" =~ ^[123](,[123])*$ ]] || die "--only takes 1, 2, 3 or a comma list of them, got '$ONLY'"
[[ "$PEERS" =~ ^(pytorch|sprig)(,(pytorch|sprig))*$ ]] || die "--peers takes pytorch, sprig or both, got '$PEERS'"
[[ -z "$EPOCHS" || "$EPOCHS" =~ ^[1-9][0-9]*$ ]] || die "--epochs must be a positive integer"
wants() { [[ ",$ONLY," == *",$1,"* ]]; }
peer() { [[ ",$PEERS," == *",$1,"* ]]; }

REPORT_PY=$(command -v python3 || true)
[[ -n "$REPORT_PY" ]] || die "python3 not found"
REPORT="$BENCH_DIR/dst_report.py"
if [[ -n "$REPORT_ONLY" ]]; then
    exec "$REPORT_PY" "$REPORT" tables "$REPORT_ONLY" --only "$ONLY"
fi

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
    # The dynamic-sparse-training flags must exist: fail clearly, not with a parse error
    # in the middle of the tables.
    local help missing=()
    help=$("$SPRIG_BIN" train --help 2>&1 || true)
    for f in --prune --grow --grow-weights --regrow-every --regrow-schedule --regrow-until \
             --initializer --fan-in --metrics; do
        grep -qE -- "(^|[^a-z-])$f([^a-z-]|$)" <<<"$help" || missing+=("$f")
    done
    [[ ${#missing[@]} -eq 0 ]] || die "$SPRIG_BIN train lacks ${missing[*]}: this benchmark needs a Sprig with dynamic sparse training (or run --peers pytorch)"
}

# one PART IMPL TAG DENSITY RULE RANKS -- CMD...: run, keep metrics and stdout, index it.
one() {
    local part=$1 impl=$2 tag=$3 density=$4 rule=$5 ranks=$6; shift 7
    local base="$RESULTS/p${part}_${impl}_${tag}"
    local metrics="$base.metrics.jsonl" out="$base.stdout" rc=0
    echo "-- part $part $impl $tag"
    if [[ $DRY_RUN -eq 1 ]]; then run timeout -k 30 "$RUN_TIMEOUT" "$@" --metrics "$metrics"; return; fi
    rm -f "$metrics"
    timeout -k 30 "$RUN_TIMEOUT" "$@" --metrics "$metrics" >"$out" 2>&1 || rc=$?
    [[ $rc -eq 0 ]] || { echo "   exit status $rc; last lines:"; tail -n 3 "$out" | sed 's/^/   | /'; }
    [[ -s "$metrics" ]] && tail -n 1 "$metrics" | sed 's/^/   /'
    "$REPORT_PY" "$REPORT" record --index "$INDEX" --part "$part" --impl "$impl" --tag "$tag" \
        --density "$density" --rule "$rule" --ranks "$ranks" --rc "$rc" --metrics "$metrics"
}

if [[ $DRY_RUN -eq 1 ]]; then echo "(dry run: commands are printed, not run)"; else mkdir -p "$RESULTS"; fi
if peer pytorch && { wants 1 || wants 2; }; then [[ $DRY_RUN -eq 1 ]] || ensure_venv; fi
if peer sprig; then build_sprig; fi
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
if [[ $DRY_RUN -eq 0 ]]; then
    echo
    "$REPORT_PY" "$REPORT" tables "$RESULTS" --only "$ONLY" | tee "$RESULTS/report.md"
    echo; echo "raw results: $RESULTS"
fi
