#!/usr/bin/env bash
# A/B of two sprig binaries on the training jobs of bench/run.sh's tables, interleaved. Two
# measures per run: the training throughput (the fastest epoch's examples/s, as sprig prints
# it) and the whole process's CPU time (user + system from /usr/bin/time: far less disturbed
# by a shared machine's neighbours than wall time, but it includes loading or generating the
# data). Prints each job's medians for A and B and the ratios B/A.
#
#   bench/ab.sh A_BINARY B_BINARY [--repeats R] [--threads T] [--quick] [--jobs 1,2,…]
#
# Used to show that a change does not slow the CPU path (bench/README.md, "The backend seam").
set -euo pipefail

[[ $# -ge 2 ]] || { echo "usage: bench/ab.sh A_BINARY B_BINARY [--repeats R] [--threads T] [--quick] [--jobs 1,2,…]" >&2; exit 2; }
A=$1 B=$2; shift 2
REPEATS=4 THREADS=1 QUICK=0 ONLY=""
while [[ $# -gt 0 ]]; do
    case $1 in
        --repeats) REPEATS=$2; shift 2 ;;
        --threads) THREADS=$2; shift 2 ;;
        --quick) QUICK=1; shift ;;
        --jobs) ONLY=$2; shift 2 ;;
        *) echo "error: unknown option '$1'" >&2; exit 2 ;;
    esac
done
for binary in "$A" "$B"; do [[ -x "$binary" ]] || { echo "error: $binary is not an executable" >&2; exit 2; }; done
[[ "$REPEATS" =~ ^[1-9][0-9]*$ ]] || { echo "error: --repeats must be a positive integer, got '$REPEATS'" >&2; exit 2; }
[[ "$THREADS" =~ ^[1-9][0-9]*$ ]] || { echo "error: --threads must be a positive integer, got '$THREADS'" >&2; exit 2; }
[[ -z "$ONLY" || "$ONLY" =~ ^[1-7](,[1-7])*$ ]] || { echo "error: --jobs takes numbers 1-7 separated by commas, got '$ONLY'" >&2; exit 2; }
[[ -x /usr/bin/time ]] || { echo "error: /usr/bin/time is missing (Debian: apt-get install time)" >&2; exit 2; }
FMNIST=${FMNIST_DIR:-/usr/share/datasets/fashion-mnist}
N=50000; [[ $QUICK -eq 1 ]] && N=10000

COMMON=(--fan-in dense --optimizer nesterov:0.9 --learning-rate 0.01 --batch-size 100 --seed 1 --threads "$THREADS"
        --epochs 2 --test-size 1000)
JOBS=(
    "synthetic 3072-1024-512-10 d=1, $((N / 5)) examples|--dataset synthetic --layer-sizes 3072,1024,512,10 --overall-density 1 --train-size $((N / 5))"
    "synthetic 3072-1024-512-10 d=0.01, $N examples|--dataset synthetic --layer-sizes 3072,1024,512,10 --overall-density 0.01 --train-size $N"
    "synthetic 3072-1024-512-10 d=0.001, $N examples|--dataset synthetic --layer-sizes 3072,1024,512,10 --overall-density 0.001 --train-size $N"
    "synthetic 3072-4096-4096-4096-10 d=0.01, 5000 examples|--dataset synthetic --layer-sizes 3072,4096,4096,4096,10 --overall-density 0.01 --train-size 5000"
)
if [[ -d "$FMNIST" ]]; then
    F="--dataset fashion-mnist --data-dir $FMNIST --layer-sizes 784,1024,512,10 --overall-density 0.01"
    JOBS+=("Fashion-MNIST 784-1024-512-10 d=0.01|$F"
           "Fashion-MNIST, batch norm, Adam|$F --layers ReLU;BatchNorm;ReLU;BatchNorm;Linear --optimizer adam:0.9,0.999,1e-8"
           "Fashion-MNIST, dropout 0.2|$F --dropouts 0.2,0.2,0.2")
fi

# "CPU seconds (user + system) <space> fastest epoch's examples/s" of one run.
measure() {
    local out; out=$(mktemp)
    if ! /usr/bin/time -f "%U %S" -o "$out.time" "$@" >"$out" 2>"$out.err"; then
        echo "error: '$*' failed:" >&2; cat "$out.err" >&2; rm -f "$out" "$out.time" "$out.err"; exit 1
    fi
    local rate; rate=$(grep -o '[0-9]* examples/s' "$out" | awk '$1 > m { m = $1 } END { print m + 0 }')
    awk -v rate="$rate" '{ printf "%.3f %s\n", $1 + $2, rate }' "$out.time"
    rm -f "$out" "$out.time" "$out.err"
}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

echo "A = $A"
echo "B = $B"
echo "$REPEATS interleaved repeats, $THREADS thread(s), 2 epochs: fastest epoch's examples/s, and the process's CPU seconds"
echo
printf "| %-54s | %9s | %9s | %6s | %8s | %8s | %6s |\n" "job" "A ex/s" "B ex/s" "B/A" "A CPU s" "B CPU s" "B/A"
printf "|%s|%s|%s|%s|%s|%s|%s|\n" "$(printf -- '-%.0s' {1..56})" "----------:" "----------:" "-------:" "---------:" "---------:" "-------:"
for index in "${!JOBS[@]}"; do
    [[ -z "$ONLY" || ",$ONLY," == *",$((index + 1)),"* ]] || continue
    job=${JOBS[$index]} name=${JOBS[$index]%%|*}; read -r -a args <<< "${job#*|}"
    a=() b=()
    for ((r = 0; r < REPEATS; r++)); do
        a+=("$(measure "$A" train "${COMMON[@]}" "${args[@]}")")
        b+=("$(measure "$B" train "${COMMON[@]}" "${args[@]}")")
    done
    ra=$(printf "%s\n" "${a[@]}" | cut -d' ' -f2 | median) rb=$(printf "%s\n" "${b[@]}" | cut -d' ' -f2 | median)
    ca=$(printf "%s\n" "${a[@]}" | cut -d' ' -f1 | median) cb=$(printf "%s\n" "${b[@]}" | cut -d' ' -f1 | median)
    printf "| %-54s | %9.0f | %9.0f | %6.3f | %8.3f | %8.3f | %6.3f |\n" "$name" "$ra" "$rb" \
        "$(awk -v a="$ra" -v b="$rb" 'BEGIN { print b / a }')" "$ca" "$cb" "$(awk -v a="$ca" -v b="$cb" 'BEGIN { print b / a }')"
done
