#!/usr/bin/env bash
# Strong and weak scaling sweeps of data-parallel Sprig training over rank counts and densities
# (usage below, or cluster/scaling.sh --help). Ranks start with `mpirun -np P` (root and
# oversubscription flags added as needed, extra arguments from SPRIG_MPIRUN_ARGS), or with
# SPRIG_LAUNCHER (e.g. "srun --mpi=pmix -n 4"), which then sets the rank count itself. Plots are
# drawn only where matplotlib can be imported (bench/.venv's Python, else python3): nothing is
# ever installed (a Slurm compute node may run this), and without matplotlib a note says how to
# draw them elsewhere. Inside a Slurm job a missing sprig is an error, not a build.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
mode=both; ranks="1 2 4"; densities="0.1 0.01 0.001"; threads=1
layers=3072,1024,512,10; batch=100; train=20000; epochs=2
csv=$ROOT/cluster/results/scaling.csv; plots=$ROOT/cluster/results; draw=1; gather=""
usage() {
    cat <<'EOF'
usage: cluster/scaling.sh [--mode strong|weak|both] [--ranks "1 2 4"] [--densities "0.1 0.01 0.001"]
                          [--threads T] [--layer-sizes L] [--batch B] [--train-size N] [--epochs E]
                          [--csv FILE] [--plots DIR] [--no-plots]
       cluster/scaling.sh --gather DIR [--no-plots]

Strong and weak scaling of data-parallel Sprig training on synthetic CIFAR-shaped data.
strong: the global batch B and the data set N stay fixed as ranks grow; weak: each rank keeps
B examples per step (global batch B·P) and N·P examples. Each point (mode, density, ranks)
appends one CSV row, from the fastest epoch after the first: examples/s, compute and
communication seconds (the slowest rank's allreduce time), bytes allreduced per step, and
efficiency against 1 rank.

  --mode M          strong, weak or both (default both)
  --ranks "P …"     rank counts (default "1 2 4")
  --densities "D …" overall densities (default "0.1 0.01 0.001")
  --threads T       threads per rank (default 1)
  --layer-sizes L   the network (default 3072,1024,512,10)
  --batch B         batch size (default 100)
  --train-size N    training examples (default 20000)
  --epochs E        epochs per point (default 2)
  --csv FILE        rows appended here (default cluster/results/scaling.csv)
  --plots DIR       PNG plots here (default cluster/results): throughput, efficiency, time breakdown
  --no-plots        no plots
  --gather DIR      merge DIR/*.csv (a job array's tasks, cluster/slurm/scaling-array.sbatch) into
                    DIR/scaling.csv, sorted, each efficiency computed again against its 1-rank
                    row, and draw the plots into DIR

Ranks start with `mpirun -np P` (SPRIG_MPIRUN_ARGS adds mpirun arguments) or SPRIG_LAUNCHER
(e.g. "srun --mpi=pmix -n 4"); SPRIG names the binary (default .build/release/sprig). Plots
need matplotlib (bench/.venv's Python, else python3); nothing is installed: without it the CSV
is written and a note says how to draw the plots elsewhere.
EOF
}
fail() { echo "error: scaling.sh: $*" >&2; exit 64; }
while [ $# -gt 0 ]; do
    case "$1" in
        --mode|--ranks|--densities|--threads|--layer-sizes|--batch|--train-size|--epochs|--csv|--plots|--gather)
            [ $# -ge 2 ] || fail "$1 needs a value" ;;
    esac
    case "$1" in
        --mode) mode=$2; shift 2 ;;
        --ranks) ranks=$2; shift 2 ;;
        --densities) densities=$2; shift 2 ;;
        --threads) threads=$2; shift 2 ;;
        --layer-sizes) layers=$2; shift 2 ;;
        --batch) batch=$2; shift 2 ;;
        --train-size) train=$2; shift 2 ;;
        --epochs) epochs=$2; shift 2 ;;
        --csv) csv=$2; shift 2 ;;
        --plots) plots=$2; shift 2 ;;
        --no-plots) draw=0; shift ;;
        --gather) gather=$2; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) fail "unknown option '$1' (see cluster/scaling.sh --help)" ;;
    esac
done
# Whole numbers are checked, digits first, before any arithmetic (bash's integers wrap at 2^63).
count() {   # count NAME VALUE MAX: VALUE is a whole number 1..MAX
    [[ "$2" =~ ^[1-9][0-9]{0,9}$ ]] && [ "$2" -le "$3" ] || fail "$1 must be a whole number from 1 to $3, not '$2'"
}
if [ -z "$gather" ]; then
    [ -n "${ranks// /}" ] || fail "--ranks needs at least one rank count"
    for p in $ranks; do count "--ranks" "$p" 1000000; done
    [ -n "${densities// /}" ] || fail "--densities needs at least one density"
    for d in $densities; do [[ "$d" =~ ^([0-9]{1,3}\.)?[0-9]{1,20}([eE]-?[0-9]{1,3})?$ ]] || fail "--densities: each density is a number like 0.01, not '$d'"; done
    count --threads "$threads" 4096; count --batch "$batch" 1000000000; count --train-size "$train" 1000000000
    count --epochs "$epochs" 1000000
fi
# draw_plots CSV DIR: with a Python that can import matplotlib; never installs it.
draw_plots() {
    local py
    for py in "$ROOT/bench/.venv/bin/python" python3; do
        if "$py" -c "import matplotlib" >/dev/null 2>&1; then "$py" "$ROOT/cluster/plot_scaling.py" "$1" "$2"; return; fi
    done
    echo "note: scaling.sh: no plots: matplotlib cannot be imported here (nothing is installed); the rows are in $1." \
         "Draw them where matplotlib is: python3 cluster/plot_scaling.py $1 $2" >&2
}

if [ -n "$gather" ]; then
    [ -d "$gather" ] || fail "--gather: '$gather' is not a directory"
    python3 - "$gather" <<'PY' || exit 1
import csv, glob, os, sys
folder = sys.argv[1]
paths = sorted(p for p in glob.glob(os.path.join(folder, "*.csv")) if os.path.basename(p) != "scaling.csv")
rows, header = [], None
for path in paths:
    with open(path) as f:
        reader = csv.DictReader(f)
        if header is None: header = reader.fieldnames
        elif reader.fieldnames != header: sys.exit(f"error: scaling.sh: {path} has the columns {reader.fieldnames}, not {header}")
        rows += list(reader)
if not rows: sys.exit(f"error: scaling.sh: no rows in {folder}/*.csv")
base = {(r["mode"], r["density"]): float(r["examples_per_second"]) for r in rows if int(r["ranks"]) == 1}
for r in rows:
    b = base.get((r["mode"], r["density"]))
    r["efficiency"] = f"{float(r['examples_per_second']) / (b * int(r['ranks'])):.3f}" if b else ""
rows.sort(key=lambda r: (r["mode"], -float(r["density"]), int(r["ranks"])))
with open(os.path.join(folder, "scaling.csv"), "w", newline="") as f:
    writer = csv.DictWriter(f, fieldnames=header, lineterminator="\n")
    writer.writeheader(); writer.writerows(rows)
print(f"scaling.sh: {len(rows)} rows from {len(paths)} files → {folder}/scaling.csv")
PY
    [ $draw -eq 0 ] || draw_plots "$gather/scaling.csv" "$gather"
    exit 0
fi

case $mode in strong) modes=strong ;; weak) modes=weak ;; both) modes="strong weak" ;;
    *) fail "--mode must be strong, weak or both, not '$mode'" ;; esac

SPRIG=${SPRIG:-$ROOT/.build/release/sprig}
if ! [ -x "$SPRIG" ]; then
    # Never a build on a compute node: inside a Slurm job a missing binary is an error.
    [ -z "${SLURM_JOB_ID:-}" ] || fail "sprig not found at $SPRIG; build it with \`swift build -c release\` in the repository before submitting, or set SPRIG=/path/to/sprig"
    [ "$SPRIG" = "$ROOT/.build/release/sprig" ] || fail "SPRIG=$SPRIG is not an executable file"
    echo "scaling.sh: building sprig (release)…" >&2
    log=$(mktemp)
    (cd "$ROOT" && swift build -c release) > "$log" 2>&1 || { cat "$log" >&2; rm -f "$log"; fail "swift build -c release failed (its output above)"; }
    rm -f "$log"
fi
mkdir -p "$(dirname "$csv")" "$plots"
[ -s "$csv" ] || echo "mode,ranks,density,examples_per_second,compute_seconds,communication_seconds,bytes_per_step,efficiency" > "$csv"
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT

launcher() {   # launcher RANKS: the command that starts RANKS ranks
    if [ -n "${SPRIG_LAUNCHER:-}" ]; then echo "$SPRIG_LAUNCHER"; return; fi
    local cmd="mpirun -np $1 --bind-to none"
    [ "$(id -u)" -eq 0 ] && cmd="$cmd --allow-run-as-root"
    [ "$1" -gt "$(nproc)" ] && cmd="$cmd --oversubscribe"
    echo "$cmd ${SPRIG_MPIRUN_ARGS:-}"
}

for m in $modes; do
    for d in $densities; do
        base=""
        for p in $ranks; do
            if [ "$m" = strong ]; then b=$batch; n=$train; else b=$((batch * p)); n=$((train * p)); fi
            metrics=$work/m.jsonl; rm -f "$metrics"
            # shellcheck disable=SC2046
            $(launcher "$p") "$SPRIG" train --dataset synthetic --layer-sizes "$layers" --overall-density "$d" \
                --batch-size "$b" --train-size "$n" --test-size 100 --epochs "$epochs" --threads "$threads" \
                --metrics "$metrics" > "$work/out.txt"
            parameters=$(grep -o '[0-9]* parameters' "$work/out.txt" | head -1 | cut -d' ' -f1)
            row=$(python3 - "$metrics" "$m" "$p" "$d" "$((4 * parameters))" "${base:-}" <<'PY'
import json, sys
path, mode, ranks, density, nbytes, base = sys.argv[1:]
epochs = [json.loads(l) for l in open(path) if l.strip()]
last = min(epochs[1:] or epochs, key=lambda e: e["seconds"])   # fastest epoch after the first: noise only adds time
eps = last["examples_per_second"]; comm = last.get("communication_seconds", 0.0)
compute = last["seconds"] - comm
ranks = int(ranks)
if not base:
    eff = 1.0
elif mode == "strong":
    eff = eps / (float(base) * ranks)
else:
    eff = eps / (float(base) * ranks)
print(f"{mode},{ranks},{density},{eps:.1f},{compute:.4f},{comm:.4f},{nbytes},{eff:.3f}")
PY
)
            echo "$row" | tee -a "$csv"
            [ -n "$base" ] || base=$(echo "$row" | cut -d, -f4)
        done
    done
done

[ $draw -eq 0 ] || draw_plots "$csv" "$plots"
