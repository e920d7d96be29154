# Shared pieces of the benchmark drivers (bench/dst.sh, bench/layers.sh, bench/run.sh).
# Sourced, not run: `source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"` right after the header
# comment (which `usage` prints) and `set -euo pipefail`.  The sourcing script keeps its own
# specifics: its parts, its --only check, its flags to require of `sprig train`.
# shellcheck shell=bash

BENCH_SCRIPT=${BASH_SOURCE[1]}
BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_DIR/.." && pwd)
VENV="$BENCH_DIR/.venv"

# Common defaults; the script sets ONLY (and anything else) after sourcing.
QUICK=0
THREADS=$(nproc 2>/dev/null || echo 1)
PEERS="pytorch,sprig"
EPOCHS=""
REPEATS=3
SPRIG_BIN=""
RESULTS=""
DRY_RUN=0
REPORT_ONLY=""
FMNIST_DIR=${FMNIST_DIR:-/usr/share/datasets/fashion-mnist}

# The value flags parse_args knows, "--flag VARIABLE" pairs; a script adds its own
# (VALUE_FLAGS+=(--densities DENSITIES)) or replaces the list.
VALUE_FLAGS=(--threads THREADS --only ONLY --peers PEERS --epochs EPOCHS --repeats REPEATS
             --sprig SPRIG_BIN --results RESULTS --report REPORT_ONLY)

usage() { sed -n '2,/^set -euo/p' "$BENCH_SCRIPT" | sed -e '$d' -e 's/^# \{0,1\}//'; }
die() { echo "$(basename "$BENCH_SCRIPT"): $*" >&2; exit 2; }
need() { [[ $2 -ge 2 ]] || die "$1 needs a value"; }

# parse_args ARGS...: --quick, --dry-run/-n, -h/--help and the VALUE_FLAGS (as "--flag V" or
# "--flag=V").
parse_args() {
    local i var
    while [[ $# -gt 0 ]]; do
        case "$1" in
            --quick) QUICK=1; shift; continue ;;
            --dry-run|-n) DRY_RUN=1; shift; continue ;;
            -h|--help) usage; exit 0 ;;
        esac
        var=""
        for ((i = 0; i < ${#VALUE_FLAGS[@]}; i += 2)); do
            if [[ "$1" == "${VALUE_FLAGS[i]}" ]]; then
                need "$1" $#; var=${VALUE_FLAGS[i + 1]}; printf -v "$var" '%s' "$2"; shift; break
            elif [[ "$1" == "${VALUE_FLAGS[i]}="* ]]; then
                var=${VALUE_FLAGS[i + 1]}; printf -v "$var" '%s' "${1#*=}"; break
            fi
        done
        [[ -n "$var" ]] || die "unknown argument: $1 (see --help)"
        shift
    done
}

# check_common ONLY_REGEX ONLY_TEXT: validate --repeats, --threads, --only, --peers, --epochs.
check_common() {
    [[ "$REPEATS" =~ ^[1-9][0-9]*$ ]] || die "--repeats must be a positive integer, got '$REPEATS'"
    [[ "$THREADS" =~ ^[1-9][0-9]*$ ]] || die "--threads must be a positive integer, got '$THREADS'"
    [[ "$ONLY" =~ $1 ]] || die "--only takes $2, got '$ONLY'"
    [[ "$PEERS" =~ ^(pytorch|sprig)(,(pytorch|sprig))*$ ]] || die "--peers takes pytorch, sprig or both, got '$PEERS'"
    [[ -z "$EPOCHS" || "$EPOCHS" =~ ^[1-9][0-9]*$ ]] || die "--epochs must be a positive integer"
}
wants() { [[ ",$ONLY," == *",$1,"* ]]; }
peer() { [[ ",$PEERS," == *",$1,"* ]]; }

# report_setup REPORT_SCRIPT: the tables helper (standard library only, so any python3 will
# do); with --report DIR, print DIR's tables and exit.
report_setup() {
    REPORT_PY=$(command -v python3 || true)
    [[ -n "$REPORT_PY" ]] || die "python3 not found"
    REPORT="$BENCH_DIR/$1"
    if [[ -n "$REPORT_ONLY" ]]; then
        exec "$REPORT_PY" "$REPORT" tables "$REPORT_ONLY" --only "$ONLY"
    fi
}

# run CMD...: execute (or, with --dry-run, only print) a command.
run() {
    if [[ $DRY_RUN -eq 1 ]]; then printf '+'; printf ' %q' "$@"; printf '\n'; else "$@"; fi
}

# ---------------------------------------------------------------------------- environment
# The Python: $BENCH_PYTHON when set, else bench/.venv with torch and numpy (created when
# missing; extra pip arguments in $BENCH_PIP_ARGS).
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

# build_sprig WHAT FLAG...: build Sprig unless --sprig was given, then check that
# `sprig train --help` lists every FLAG, so that a Sprig without them fails clearly, not with a
# parse error in the middle of the tables; WHAT ends the message ("this benchmark needs ...").
# Leaves the help text in SPRIG_HELP (empty in a dry run).
SPRIG_HELP=""
build_sprig() {
    local what=$1; shift
    if [[ -z "$SPRIG_BIN" ]]; then
        echo "== building Sprig (swift build -c release)"
        (cd "$ROOT" && run swift build -c release)
        SPRIG_BIN="$ROOT/.build/release/sprig"
    fi
    [[ $DRY_RUN -eq 1 ]] && return
    [[ -x "$SPRIG_BIN" ]] || die "Sprig binary $SPRIG_BIN is not executable"
    local f missing=()
    SPRIG_HELP=$("$SPRIG_BIN" train --help 2>&1 || true)
    for f in "$@"; do
        grep -qE -- "(^|[^a-z-])$f([^a-z-]|$)" <<<"$SPRIG_HELP" || missing+=("$f")
    done
    [[ ${#missing[@]} -eq 0 ]] || die "$SPRIG_BIN train lacks ${missing[*]}: $what"
}

# sprig_and_baseline: for the A/B scripts (kernels.sh, spread.sh): builds Sprig's executable
# when --sprig was not given, then fails unless it and BASELINE (when set) are executables.
BASELINE=""
sprig_and_baseline() {
    if [[ -z "$SPRIG_BIN" ]]; then
        (cd "$ROOT" && swift build -c release --product sprig >&2)
        SPRIG_BIN="$ROOT/.build/release/sprig"
    fi
    local binary
    for binary in "$SPRIG_BIN" ${BASELINE:+"$BASELINE"}; do
        [[ -x "$binary" ]] || die "$binary is not an executable"
    done
}

# build_round_trip_probe, then cpu_round_trip: how far apart CPUs 0 and 1 are now, in ns
# (bench/tools/cpu_round_trip.c; 0 on a machine of one CPU). On this VM the host sometimes puts
# its two vCPUs on different dies (320–380 ns against 50–90), and a 2-thread run is then up to
# 3× slower (bench/README.md, "Reproducible speed: the cause"); the A/B scripts print it.
ROUND_TRIP_PROBE=""
build_round_trip_probe() {
    ROUND_TRIP_PROBE=$(mktemp -d)/cpu_round_trip
    trap 'rm -rf "$(dirname "$ROUND_TRIP_PROBE")"' EXIT
    local cc=${CC:-$(command -v cc || command -v clang || echo cc)}
    "$cc" -O2 -pthread "$ROOT/bench/tools/cpu_round_trip.c" -o "$ROUND_TRIP_PROBE" >&2 \
        || die "cannot build bench/tools/cpu_round_trip.c with $cc"
}
cpu_round_trip() {
    if [[ $(nproc) -lt 2 ]]; then echo 0; else "$ROUND_TRIP_PROBE" 0 1 0.3; fi
}

# one PART IMPL TAG VALUE... -- CMD...: run CMD with --metrics, keep its metrics and stdout
# in $RESULTS/pPART_IMPL_TAG.*, and record it in $INDEX; each VALUE goes to the report's
# `record` under the flag at the same place in RECORD_FLAGS (set by the script).
RECORD_FLAGS=()
one() {
    local part=$1 impl=$2 tag=$3; shift 3
    local -a rec=()
    local i=0
    while [[ "$1" != "--" ]]; do rec+=("${RECORD_FLAGS[i]}" "$1"); i=$((i + 1)); shift; done
    shift
    local base="$RESULTS/p${part}_${impl}_${tag}"
    local metrics="$base.metrics.jsonl" out="$base.stdout" rc=0
    echo "-- part $part $impl $tag"
    if [[ $DRY_RUN -eq 1 ]]; then run timeout -k 30 "$RUN_TIMEOUT" "$@" --metrics "$metrics"; return; fi
    rm -f "$metrics"
    timeout -k 30 "$RUN_TIMEOUT" "$@" --metrics "$metrics" >"$out" 2>&1 || rc=$?
    [[ $rc -eq 0 ]] || { echo "   exit status $rc; last lines:"; tail -n 3 "$out" | sed 's/^/   | /'; }
    [[ -s "$metrics" ]] && tail -n 1 "$metrics" | sed 's/^/   /'
    "$REPORT_PY" "$REPORT" record --index "$INDEX" --part "$part" --impl "$impl" --tag "$tag" \
        "${rec[@]}" --rc "$rc" --metrics "$metrics"
}

# start_results: announce a dry run, or create $RESULTS.
start_results() {
    if [[ $DRY_RUN -eq 1 ]]; then echo "(dry run: commands are printed, not run)"; else mkdir -p "$RESULTS"; fi
}

# final_report: after a real run, print the tables and save them as $RESULTS/report.md.
final_report() {
    if [[ $DRY_RUN -eq 0 ]]; then
        echo
        "$REPORT_PY" "$REPORT" tables "$RESULTS" --only "$ONLY" | tee "$RESULTS/report.md"
        echo; echo "raw results: $RESULTS"
    fi
}
