#!/usr/bin/env bash
# Graph Challenge inference: Sprig against SciPy (scipy.sparse) and SuiteSparse:GraphBLAS
# (python-graphblas), same files, same thread count, in one invocation; checks that all three
# give the same categories and prints the rates (inputs × edges / s, file reading excluded).
#
#   bench/challenge.sh [--threads T] [--repeat R] [--peer-batch M] [--cases "real 1024:120:10000 4096:120:2000"]
#
# A case N:L:M generates a RadiX-Net network of N neurons and L layers with the first M
# Fashion-MNIST inputs (bench/results/challenge-nets/, reused); `real` is the challenge's own
# 1024-neuron network with its first 1200 inputs (../shared/data/graph-challenge). Each engine
# runs R times (default 3) and its best time counts (this machine is shared and noisy). With
# --peer-batch M the peers take the inputs M at a time, as Sprig does (GraphBLAS needs it from
# N = 16384 on: 2000 inputs at once exhaust 24 GiB).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
threads=$(nproc); repeat=3; peer_batch=0; cases="real 1024:120:10000 4096:120:2000"
while [ $# -gt 0 ]; do
    case "$1" in
        --threads) threads=$2; shift 2 ;;
        --cases) cases=$2; shift 2 ;;
        --repeat) repeat=$2; shift 2 ;;
        --peer-batch) peer_batch=$2; shift 2 ;;
        *) echo "error: challenge.sh: unknown option '$1'" >&2; exit 64 ;;
    esac
done
cd "$ROOT"
swift build -c release >/dev/null
SPRIG=$ROOT/.build/release/sprig
PY=$ROOT/bench/.venv/bin/python
[ -x "$PY" ] || python3 -m venv bench/.venv
"$PY" -c "import graphblas, scipy, numpy" 2>/dev/null || "$PY" -m pip install -q python-graphblas scipy numpy
nets=$ROOT/bench/results/challenge-nets; out=$ROOT/bench/results/challenge-$(date +%Y%m%d-%H%M%S); mkdir -p "$nets" "$out"

echo "| case | inputs | edges | Sprig edges/s | SciPy edges/s | GraphBLAS edges/s | Sprig / GraphBLAS | Sprig / SciPy | categories (all agree) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---|"
for c in $cases; do
    if [ "$c" = real ]; then
        n=1024; l=120; dir=$ROOT/../shared/data/graph-challenge/neuron1024
        images=$ROOT/../shared/data/graph-challenge/sparse-images-1024-first1200.tsv.gz
    else
        IFS=: read -r n l m <<< "$c"
        dir=$nets/n$n-l$l
        [ -f "$dir/n$n-l$l.tsv" ] || "$SPRIG" challenge generate --neurons "$n" --layers "$l" --output "$dir" --inputs 60000 > /dev/null
        images=$dir/images-$m.tsv
        [ -f "$images" ] || awk -F'\t' -v m="$m" '$1 > m { exit } { print }' "$dir/sparse-images-$n.tsv" > "$images"
    fi
    for ((k = 0; k < repeat; k++)); do
        "$SPRIG" challenge run --network "$dir" --neurons $n --layers $l --inputs "$images" --threads "$threads" \
            --categories-out "$out/$c-sprig.tsv" >> "$out/$c-sprig.txt"
    done
    sprig_rate=$(grep -o 'rate [0-9.e+]*' "$out/$c-sprig.txt" | cut -d' ' -f2 | sort -g | tail -1)
    for e in scipy graphblas; do
        "$PY" bench/challenge_peers.py $e --network "$dir" --neurons $n --layers $l --inputs "$images" --threads "$threads" \
            --repeat "$repeat" --batch "$peer_batch" --categories-out "$out/$c-$e.tsv" > "$out/$c-$e.json"
    done
    agree=yes
    for e in scipy graphblas; do cmp -s "$out/$c-sprig.tsv" "$out/$c-$e.tsv" || agree=NO; done
    "$PY" - "$out" "$c" "$sprig_rate" "$agree" <<'PY'
import json, sys
out, case, sprig, agree = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
s = json.load(open(f"{out}/{case}-scipy.json")); g = json.load(open(f"{out}/{case}-graphblas.json"))
print(f"| {case} | {g['inputs']} | {g['edges']} | {sprig:.3g} | {s['rate']:.3g} | {g['rate']:.3g} | "
      f"{sprig / g['rate']:.1f}× | {sprig / s['rate']:.1f}× | {g['categories']} ({agree}) |")
PY
done
echo; echo "raw results: $out"
