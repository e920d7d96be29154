#!/usr/bin/env bash
# Graph Challenge inference: Sprig against SuiteSparse:GraphBLAS (python-graphblas) and SciPy
# (scipy.sparse), same files, same thread count, in one invocation; checks that all give the
# same categories and prints the rates (inputs × edges / s, file reading excluded) and Sprig's
# rate per thread (one thread per core here).
#
#   bench/challenge.sh [--threads T] [--repeat R] [--peer-batch M] [--peers "graphblas scipy"]
#                      [--cases "real 1024:120:10000 4096:120:2000 1024:60:6000:0.9"]
#
# A case N:L:M[:T] generates a RadiX-Net network of N neurons and L layers with the first M
# Fashion-MNIST inputs, thresholded at T (default 0.5; bench/results/challenge-nets/, reused);
# `real` is the challenge's own 1024-neuron network with its first 1200 inputs
# (../shared/data/graph-challenge). Each engine runs R times in one process after a warm-up
# (default 3) and its best time counts (this machine is shared and noisy); Sprig's profile of
# its fastest pass is in the raw results. With --peer-batch M the peers take the inputs M at
# a time, as Sprig does (GraphBLAS needs it from N = 16384 on: 2000 inputs at once exhaust
# 24 GiB). --peers picks the peers (SciPy alone takes minutes per run from N = 16384 or
# L = 1920 on; "graphblas" skips it).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
threads=$(nproc); repeat=3; peer_batch=0; cases="real 1024:120:10000 4096:120:2000 1024:60:6000:0.9"; peers="graphblas scipy"
while [ $# -gt 0 ]; do
    case "$1" in
        --threads) threads=$2; shift 2 ;;
        --cases) cases=$2; shift 2 ;;
        --repeat) repeat=$2; shift 2 ;;
        --peer-batch) peer_batch=$2; shift 2 ;;
        --peers) peers=$2; shift 2 ;;
        *) echo "error: challenge.sh: unknown option '$1'" >&2; exit 64 ;;
    esac
done
for e in $peers; do
    [ "$e" = graphblas ] || [ "$e" = scipy ] || { echo "error: challenge.sh: --peers takes graphblas and/or scipy, not '$e'" >&2; exit 64; }
done
[[ " $peers " == *" graphblas "* ]] || { echo "error: challenge.sh: --peers must include graphblas (the ratios are against it)" >&2; exit 64; }
cd "$ROOT"
swift build -c release >/dev/null
SPRIG=$ROOT/.build/release/sprig
PY=$ROOT/bench/.venv/bin/python
[ -x "$PY" ] || python3 -m venv bench/.venv
"$PY" -c "import graphblas, scipy, numpy" 2>/dev/null || "$PY" -m pip install -q python-graphblas scipy numpy
nets=$ROOT/bench/results/challenge-nets; out=$ROOT/bench/results/challenge-$(date +%Y%m%d-%H%M%S); mkdir -p "$nets" "$out"

echo "| case | inputs | edges | Sprig edges/s | per thread | GraphBLAS edges/s | SciPy edges/s | Sprig / GraphBLAS | Sprig / SciPy | categories (all agree) |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
for c in $cases; do
    if [ "$c" = real ]; then
        n=1024; l=120; dir=$ROOT/../shared/data/graph-challenge/neuron1024
        images=$ROOT/../shared/data/graph-challenge/sparse-images-1024-first1200.tsv.gz
    else
        IFS=: read -r n l m t <<< "$c"
        t=${t:-0.5}
        dir=$nets/n$n-l$l; [ "$t" = 0.5 ] || dir=$dir-t$t
        [ -f "$dir/n$n-l$l.tsv" ] && [ -f "$dir/sparse-images-$n.tsv" ] \
            || "$SPRIG" challenge generate --neurons "$n" --layers "$l" --output "$dir" --inputs "$m" --threshold "$t" > /dev/null
        images=$dir/images-$m.tsv
        [ -f "$images" ] || awk -F'\t' -v m="$m" '$1 > m { exit } { print }' "$dir/sparse-images-$n.tsv" > "$images"
    fi
    # Timed as the peers are: in one process, a first pass (the peers' untimed warm-up batch) and
    # R more, the fastest counting.
    "$SPRIG" challenge run --network "$dir" --neurons $n --layers $l --inputs "$images" --threads "$threads" \
        --repeat $((repeat + 1)) --profile --categories-out "$out/$c-sprig.tsv" > "$out/$c-sprig.txt"
    sprig_rate=$(grep -o 'rate [0-9.e+]*' "$out/$c-sprig.txt" | cut -d' ' -f2)
    agree=yes
    for e in $peers; do
        "$PY" bench/challenge_peers.py $e --network "$dir" --neurons $n --layers $l --inputs "$images" --threads "$threads" \
            --repeat "$repeat" --batch "$peer_batch" --categories-out "$out/$c-$e.tsv" > "$out/$c-$e.json"
        cmp -s "$out/$c-sprig.tsv" "$out/$c-$e.tsv" || agree=NO
    done
    "$PY" - "$out" "$c" "$sprig_rate" "$agree" "$threads" <<'PY'
import json, os, sys
out, case, sprig, agree, threads = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4], int(sys.argv[5])
g = json.load(open(f"{out}/{case}-graphblas.json"))
s = json.load(open(f"{out}/{case}-scipy.json")) if os.path.exists(f"{out}/{case}-scipy.json") else None
scipy_rate, scipy_ratio = (f"{s['rate']:.3g}", f"{sprig / s['rate']:.1f}×") if s else ("—", "—")
print(f"| {case} | {g['inputs']} | {g['edges']} | {sprig:.3g} | {sprig / threads:.3g} | {g['rate']:.3g} | {scipy_rate} | "
      f"{sprig / g['rate']:.1f}× | {scipy_ratio} | {g['categories']} ({agree}) |")
PY
done
echo; echo "raw results: $out"
