#!/usr/bin/env bash
# Sprig benchmarks against the masked-dense PyTorch baseline (bench/pytorch_masked.py).
#
#   bench/run.sh [--quick] [--threads T] [--only 1|2|3[,..]] [--epochs-fmnist N]
#                [--sprig BIN] [--results DIR] [--dry-run] [--report DIR] [-h]
#
#   1. CIFAR-shaped synthetic data, 3072-1024-512-10: seconds per epoch over densities.
#   2. Fashion-MNIST, 784-1024-512-10: final test accuracy, same hyperparameters.
#   3. Width scaling 3072-W-W-W-10 at density 0.01: examples/s and peak memory.
#
# Every benchmark runs PyTorch and Sprig in the same invocation.  Raw JSON lines go to
# bench/results/<timestamp>/ (gitignored); the Markdown tables are printed and saved there
# as report.md.  The Python environment is bench/.venv (created, with torch and numpy,
# when missing; extra pip arguments can be given in $BENCH_PIP_ARGS).
set -euo pipefail
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ONLY="1,2,3"
FMNIST_EPOCHS=""
PYTORCH_TIME_BUDGET=${PYTORCH_TIME_BUDGET:-300}     # bench 3: skip wider PyTorch runs after this
RUN_TIMEOUT=${RUN_TIMEOUT:-3600}                    # hard limit per single run (seconds)
VALUE_FLAGS=(--threads THREADS --only ONLY --epochs-fmnist FMNIST_EPOCHS --sprig SPRIG_BIN
             --results RESULTS --report REPORT_ONLY)
parse_args "$@"

[[ "$THREADS" =~ ^[1-9][0-9]*$ ]] || die "--threads must be a positive integer, got '$THREADS'"
[[ "$ONLY" =~ ^[123](,[123])*$ ]] || die "--only takes 1, 2, 3 or a comma list of them, got '$ONLY'"
[[ -z "$FMNIST_EPOCHS" || "$FMNIST_EPOCHS" =~ ^[1-9][0-9]*$ ]] || die "--epochs-fmnist must be a positive integer"

report_setup report.py

# ---------------------------------------------------------------------------- settings
if [[ $QUICK -eq 1 ]]; then
    B1_DENSITIES="1 0.01 0.001"; B1_EPOCHS=1; B1_TRAIN=10000
    B2_DENSITIES="1 0.1 0.01";   B2_EPOCHS=${FMNIST_EPOCHS:-2}
    B3_WIDTHS="1024 2048 4096";  B3_TRAIN=2000
else
    B1_DENSITIES="1 0.5 0.1 0.05 0.01 0.005 0.001"; B1_EPOCHS=4; B1_TRAIN=50000
    B2_DENSITIES="1 0.1 0.01";   B2_EPOCHS=${FMNIST_EPOCHS:-10}
    B3_WIDTHS="1024 2048 4096 8192 16384 32768"; B3_TRAIN=5000
fi
B1_TEST=1000; B3_TEST=1000
COMMON=(--optimizer nesterov:0.9 --learning-rate 0.01 --batch-size 100 --seed 1 --threads "$THREADS")

[[ -n "$RESULTS" ]] || RESULTS="$BENCH_DIR/results/$(date +%Y%m%d-%H%M%S)"
INDEX="$RESULTS/runs.jsonl"

cat <<EOF
Sprig benchmarks: only=$ONLY quick=$QUICK threads=$THREADS results=$RESULTS
  bench 1: densities [$B1_DENSITIES], $B1_EPOCHS epoch(s), $B1_TRAIN examples
  bench 2: densities [$B2_DENSITIES], $B2_EPOCHS epoch(s), data $FMNIST_DIR
  bench 3: widths [$B3_WIDTHS], $B3_TRAIN examples, PyTorch time budget ${PYTORCH_TIME_BUDGET}s
EOF

# ---------------------------------------------------------------------------- (a) venv
PY="$VENV/bin/python"
ensure_venv() {
    if [[ -x "$PY" ]] && "$PY" -c 'import torch, numpy' >/dev/null 2>&1; then
        return
    fi
    echo "== setting up $VENV (torch, numpy)"
    if [[ ! -x "$PY" ]]; then
        python3 -m venv "$VENV" || die "python3 -m venv failed (Debian: apt-get install python3-venv)"
    fi
    "$PY" -m pip install --upgrade pip >/dev/null
    # shellcheck disable=SC2086
    "$PY" -m pip install ${BENCH_PIP_ARGS:-} torch numpy
    "$PY" -c 'import torch, numpy; print("torch", torch.__version__, "numpy", numpy.__version__)'
}

# ---------------------------------------------------------------------------- (b) build
build_sprig() {
    if [[ -n "$SPRIG_BIN" ]]; then
        [[ $DRY_RUN -eq 1 || -x "$SPRIG_BIN" ]] || die "--sprig $SPRIG_BIN is not executable"
        return
    fi
    echo "== building Sprig (swift build -c release)"
    (cd "$ROOT" && run swift build -c release)
    SPRIG_BIN="$ROOT/.build/release/sprig"
    [[ $DRY_RUN -eq 1 || -x "$SPRIG_BIN" ]] || die "build produced no $SPRIG_BIN"
}

# Peak memory via GNU time; install it when missing and we are root.
TIME_BIN=""
ensure_time() {
    if [[ -x /usr/bin/time ]] && /usr/bin/time -f '%M' true >/dev/null 2>&1; then
        TIME_BIN=/usr/bin/time; return
    fi
    if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
        echo "== installing GNU time (apt-get install -y time)"
        (apt-get install -y time >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y time >/dev/null 2>&1; }) || true
    fi
    if [[ -x /usr/bin/time ]]; then TIME_BIN=/usr/bin/time
    else echo "warning: /usr/bin/time unavailable; PyTorch peak memory from its own report, Sprig's unknown" >&2
    fi
}

# one BENCH IMPL TAG KEY=VALUE -- CMD...: run one program, keep its metrics, stdout, peak RSS
# and record it in the index.  Never fails (the status goes into the index instead).
LAST_RC=0
one() {
    local bench=$1 impl=$2 tag=$3 keyval=$4; shift 5
    local base="$RESULTS/b${bench}_${impl}_${tag}"
    local metrics="$base.metrics.jsonl" out="$base.stdout" tfile="$base.time"
    local -a timecmd=()
    [[ -n "$TIME_BIN" ]] && timecmd=("$TIME_BIN" -f '%M' -o "$tfile")
    echo "-- bench $bench $impl $tag"
    LAST_RC=0
    if [[ $DRY_RUN -eq 1 ]]; then
        run "${timecmd[@]}" timeout -k 30 "$RUN_TIMEOUT" "$@" --metrics "$metrics"
        return
    fi
    rm -f "$metrics" "$tfile"
    # GNU time's %M covers waited-for descendants, so it sees through `timeout`.
    "${timecmd[@]}" timeout -k 30 "$RUN_TIMEOUT" "$@" --metrics "$metrics" >"$out" 2>&1 || LAST_RC=$?
    grep -E '^\{' "$out" | grep -vE '"epoch"' || true
    [[ $LAST_RC -eq 0 ]] || { echo "   exit status $LAST_RC; last lines:"; tail -n 3 "$out" | sed 's/^/   | /'; }
    "$REPORT_PY" "$REPORT" record --index "$INDEX" --bench "$bench" --impl "$impl" \
        --rc "$LAST_RC" "--$keyval" --metrics "$metrics" --stdout "$out" --time-file "$tfile"
}

skip() {   # skip BENCH IMPL KEY=VALUE STATUS
    echo "-- bench $1 $2 ${3#*=}: $4"
    [[ $DRY_RUN -eq 1 ]] || "$REPORT_PY" "$REPORT" record --index "$INDEX" --bench "$1" \
        --impl "$2" "--$3" --status "$4"
}

# ---------------------------------------------------------------------------- setup
start_results
[[ $DRY_RUN -eq 1 ]] || ensure_venv
build_sprig
ensure_time
PT=("$PY" "$BENCH_DIR/pytorch_masked.py")
SP=("$SPRIG_BIN" train --fan-in dense)   # PyTorch-with-masks counts the dense fan-in: compare like for like

# ---------------------------------------------------------------------------- (c) benchmarks
if wants 1; then
    echo; echo "== 1. CIFAR-shaped synthetic data, 3072-1024-512-10"
    for d in $B1_DENSITIES; do
        args=(--dataset synthetic --layer-sizes 3072,1024,512,10 --overall-density "$d"
              --epochs "$B1_EPOCHS" --train-size "$B1_TRAIN" --test-size "$B1_TEST" "${COMMON[@]}")
        one 1 pytorch "d$d" "density=$d" -- "${PT[@]}" "${args[@]}"
        one 1 sprig   "d$d" "density=$d" -- "${SP[@]}" "${args[@]}"
    done
fi

if wants 2; then
    echo; echo "== 2. Fashion-MNIST, 784-1024-512-10"
    for d in $B2_DENSITIES; do
        args=(--dataset fashion-mnist --data-dir "$FMNIST_DIR" --layer-sizes 784,1024,512,10
              --overall-density "$d" --epochs "$B2_EPOCHS" "${COMMON[@]}")
        one 2 pytorch "d$d" "density=$d" -- "${PT[@]}" "${args[@]}"
        one 2 sprig   "d$d" "density=$d" -- "${SP[@]}" "${args[@]}"
    done
fi

if wants 3; then
    echo; echo "== 3. Width scaling, 3072-W-W-W-10 at density 0.01"
    pt_state=run     # run, or the status recorded for the remaining (wider) PyTorch rows
    for w in $B3_WIDTHS; do
        args=(--dataset synthetic --layer-sizes "3072,$w,$w,$w,10" --overall-density 0.01
              --epochs 1 --train-size "$B3_TRAIN" --test-size "$B3_TEST" "${COMMON[@]}")
        case $pt_state in
            run)
                one 3 pytorch "w$w" "width=$w" -- "${PT[@]}" "${args[@]}"
                if [[ $DRY_RUN -eq 0 ]]; then
                    case $LAST_RC in
                        0) ;;
                        3|137) pt_state=oom ;;            # out of memory / SIGKILL (OOM killer)
                        124) pt_state=skipped-time ;;     # hit RUN_TIMEOUT
                        *) pt_state=skipped ;;            # failed for another reason
                    esac
                    if [[ $LAST_RC -eq 0 ]]; then
                        secs=$("$REPORT_PY" "$REPORT" pytorch-seconds "$RESULTS/b3_pytorch_w$w.metrics.jsonl")
                        if [[ -n "$secs" ]] && "$REPORT_PY" -c "import sys; sys.exit(0 if float(sys.argv[1]) > float(sys.argv[2]) else 1)" "$secs" "$PYTORCH_TIME_BUDGET"; then
                            pt_state=skipped-time
                        fi
                    fi
                fi ;;
            *) skip 3 pytorch "width=$w" "$pt_state" ;;
        esac
        one 3 sprig "w$w" "width=$w" -- "${SP[@]}" "${args[@]}"
    done
fi

# ---------------------------------------------------------------------------- report
final_report
